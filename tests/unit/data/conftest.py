from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from ktrdr.data.v1 import data_pb2_grpc
from ktrdr_data.app import SPEC
from ktrdr_data.domain.storage import ParquetBarStore
from ktrdr_runtime.testing import serve_in_process


@pytest.fixture
def store(tmp_path) -> ParquetBarStore:
    return ParquetBarStore(tmp_path / "store")


@pytest.fixture
async def data(tmp_path):
    """The data service in-process over the bundled GOOG and EURUSD: (stub, KTRDR_HOME)."""
    async with serve_in_process(SPEC, home=tmp_path) as (_, channel):
        yield data_pb2_grpc.DataServiceStub(channel), tmp_path
