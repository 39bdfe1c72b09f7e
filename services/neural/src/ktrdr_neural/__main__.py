"""python -m ktrdr_neural: run the neural service."""

from ktrdr_neural.app import SPEC
from ktrdr_runtime.server import main

main(SPEC)
