"""python -m ktrdr_ib_gateway: run the ib_gateway service."""

from ktrdr_ib_gateway.app import SPEC
from ktrdr_runtime.server import main

main(SPEC)
