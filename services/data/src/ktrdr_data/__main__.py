"""python -m ktrdr_data: run the data service."""

from ktrdr_data.app import SPEC
from ktrdr_runtime.server import main

main(SPEC)
