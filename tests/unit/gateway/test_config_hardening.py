"""The generated edge config: what the hardening of issue 9 relies on, checked statically.

Behaviour through a real Envoy is in tests/integration/test_edge_hardening.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from ktrdr_gateway import contracts, envoy_config
from ktrdr_runtime.limits import REST_MAX_RESPONSE_BYTES

from .test_config import UPSTREAMS, _filter, _hcm


@pytest.fixture(scope="module")
def boot() -> dict[str, Any]:
    cfg = envoy_config.GatewayConfig(upstreams=UPSTREAMS, key_file="/tmp/k")
    return envoy_config.build(cfg, contracts.descriptor_bytes(), "{}")


def test_every_local_reply_carries_the_security_headers(boot):
    mappers = _hcm(boot)["local_reply_config"]["mappers"]
    for mapper in mappers:
        added = {h["header"]["key"] for h in mapper["headers_to_add"]}
        assert set(envoy_config.SECURITY_HEADERS) <= added
    catch_all = mappers[-1]["filter"]["status_code_filter"]["comparison"]
    assert catch_all["op"] == "GE" and catch_all["value"]["default_value"] == 0


def test_lua_replies_are_not_rewritten_by_the_local_reply_mappers(boot):
    for mapper in _hcm(boot)["local_reply_config"]["mappers"][:-1]:
        header = mapper["filter"]["and_filter"]["filters"][1]["header_filter"]["header"]
        assert header == {"name": "x-ktrdr-lua-reply", "present_match": True, "invert_match": True}


def test_client_copies_of_internal_headers_are_removed_first(boot):
    first = _hcm(boot)["http_filters"][0]
    assert first["name"] == "envoy.filters.http.header_mutation"
    removed = {m["remove"] for m in first["typed_config"]["mutations"]["request_mutations"]}
    assert set(envoy_config.INTERNAL_HEADERS) <= removed
    assert {"x-ktrdr-key-id", "x-ktrdr-rest", "x-ktrdr-lua-reply"} <= removed


def test_rate_limited_answers_carry_retry_after(boot):
    added = _filter(boot, "envoy.filters.http.local_ratelimit")["response_headers_to_add"]
    assert [h["header"]["key"] for h in added] == ["retry-after"]
    assert int(added[0]["header"]["value"]) >= 1


def test_client_request_id_is_preserved(boot):
    assert _hcm(boot)["preserve_external_request_id"] is True


def test_access_log_never_logs_the_raw_path_or_query(boot):
    fmt = _hcm(boot)["access_log"][0]["typed_config"]["log_format"]["json_format"]
    assert fmt["path"].startswith("%REQ(X-KTRDR-LOG-PATH)")
    assert fmt["rpc"].startswith("%REQ(X-KTRDR-RPC)")
    for value in fmt.values():
        assert "ORIGINAL-PATH" not in value and "(:PATH)" not in value
    bounded = [v for v in fmt.values() if v.startswith("%REQ(")]
    assert all(v.rstrip("%").rsplit(":", 1)[-1].isdigit() for v in bounded), bounded


def test_stream_status_filter_sits_between_transcoder_and_router(boot):
    names = [f["name"] for f in _hcm(boot)["http_filters"]]
    assert names[-3:] == [
        "envoy.filters.http.grpc_json_transcoder",
        "ktrdr.stream_status",
        "envoy.filters.http.router",
    ]
    lua = _filter(boot, "ktrdr.stream_status")["default_source_code"]["inline_string"]
    assert "x-ktrdr-error-json" in lua and "x-ktrdr-rest" in lua


def test_lua_knows_streams_queries_aliases_and_auth_limits(boot):
    lua = _filter(boot, "envoy.filters.http.lua")["default_source_code"]["inline_string"]
    assert '{"POST", "^/api/v1/data/stream$"}' in lua  # STREAM_RULES
    assert '["startDate"] = "start_date"' in lua  # NAMES: both spellings are one field
    assert "AUTH_FAIL_PER_MINUTE = 30" in lua and "AUTH_FAIL_BURST = 30" in lua
    assert '["symbol"] = true' in lua  # path parameters of the query rules


def test_transcoder_backstop_is_just_above_the_runtime_rest_limit(boot):
    limit = _filter(boot, "envoy.filters.http.grpc_json_transcoder")["max_response_body_size"]
    assert REST_MAX_RESPONSE_BYTES < limit <= REST_MAX_RESPONSE_BYTES + 2 * 2**20
