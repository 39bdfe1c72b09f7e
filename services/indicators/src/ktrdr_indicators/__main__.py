"""python -m ktrdr_indicators: run the indicators service."""

from ktrdr_indicators.app import SPEC
from ktrdr_runtime.server import main

main(SPEC)
