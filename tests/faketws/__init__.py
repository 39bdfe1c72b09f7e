"""A fake TWS for tests, benchmarks and local use: the real TWS socket protocol on 127.0.0.1.

It is a test double, not a market: prices are synthetic. ``FakeTws`` runs in the caller's
event loop; ``python -m tests.faketws`` runs it as a process (``ktrdr mesh up --fake-tws``).
"""

from tests.faketws.market import FakeContract, default_contracts
from tests.faketws.pacing import FakePacing
from tests.faketws.server import PACING_TEXT, FakeTws, HistoricalRecord

__all__ = [
    "PACING_TEXT",
    "FakeContract",
    "FakePacing",
    "FakeTws",
    "HistoricalRecord",
    "default_contracts",
]
