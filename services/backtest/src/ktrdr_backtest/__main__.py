"""python -m ktrdr_backtest: run the backtest service."""

from ktrdr_backtest.app import SPEC
from ktrdr_runtime.server import main

main(SPEC)
