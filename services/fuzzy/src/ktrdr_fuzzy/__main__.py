"""python -m ktrdr_fuzzy: run the fuzzy service."""

from ktrdr_fuzzy.app import SPEC
from ktrdr_runtime.server import main

main(SPEC)
