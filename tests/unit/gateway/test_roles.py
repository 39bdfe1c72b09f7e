"""The contract owns the roles: every RPC names one, the edge policy is generated from them, and
an RPC without a role is refused when the edge config is generated."""

from __future__ import annotations

import pytest

from ktrdr.common.v1 import common_pb2
from ktrdr_gateway import contracts, envoy_config, policy

ADMIN = {
    "/ktrdr.neural.v1.NeuralService/TrainModel",
    "/ktrdr.neural.v1.NeuralService/DeleteModel",
    "/ktrdr.neural.v1.NeuralService/CancelTraining",
    "/ktrdr.data.v1.DataService/ReplaceSeries",
    "/ktrdr.data.v1.DataService/DeleteSeries",
    "/ktrdr.backtest.v1.BacktestService/RunWalkForward",
}
TRADE = {
    "/ktrdr.data.v1.DataService/LoadData",
    "/ktrdr.data.v1.DataService/ImportBars",
    "/ktrdr.data.v1.DataService/UpdateSymbolMetadata",
    "/ktrdr.backtest.v1.BacktestService/RunBacktest",
    "/ktrdr.ib_gateway.v1.IbGatewayService/QualifyContract",
    "/ktrdr.ib_gateway.v1.IbGatewayService/StreamHistoricalBars",
    "/ktrdr.ib_gateway.v1.IbGatewayService/StreamLiveBars",
}
UPSTREAMS = {
    s: f"127.0.0.1:{50051 + i}" for i, s in enumerate(contracts.SERVICE_OF_PACKAGE.values())
}


def test_every_rpc_of_the_six_services_names_its_role() -> None:
    fds = contracts.load_descriptor_set()
    every = {
        f"/{f.package}.{s.name}/{m.name}"
        for f in fds.file
        if f.package in contracts.SERVICE_OF_PACKAGE
        for s in f.service
        for m in s.method
    }
    roles = policy.roles(fds)
    assert set(roles) == every and len(every) >= 40
    assert {p for p, r in roles.items() if r == "admin"} == ADMIN
    assert {p for p, r in roles.items() if r == "trade"} == TRADE
    assert policy.role_for("/ktrdr.fuzzy.v1.FuzzyService/StreamFuzzy") == "read"


def test_an_rpc_without_a_role_is_refused_at_generation_time() -> None:
    fds = contracts.load_descriptor_set()
    method = next(
        m
        for f in fds.file
        if f.package == "ktrdr.indicators.v1"
        for s in f.service
        for m in s.method
        if m.name == "CalculateIndicator"
    )
    method.options.ClearExtension(common_pb2.role)
    with pytest.raises(policy.MissingRoleError, match="IndicatorService/CalculateIndicator"):
        policy.roles(fds)
    cfg = envoy_config.GatewayConfig(upstreams=UPSTREAMS, key_file="/tmp/k")
    with pytest.raises(policy.MissingRoleError):
        envoy_config.build(cfg, fds.SerializeToString(), openapi_json="{}")


def test_an_unknown_rpc_has_no_role() -> None:
    with pytest.raises(policy.MissingRoleError):
        policy.role_for("/ktrdr.neural.v1.NeuralService/Unknown")


def test_the_auth_filter_tables_are_the_contract_roles() -> None:
    cfg = envoy_config.GatewayConfig(upstreams=UPSTREAMS, key_file="/tmp/k")
    routes = contracts.http_routes(contracts.load_descriptor_set())
    lua = envoy_config.lua_source(cfg, routes, sorted(ADMIN | TRADE))
    for path in ADMIN:
        assert f'["{path}"] = "admin"' in lua
    for path in TRADE:
        assert f'["{path}"] = "trade"' in lua
    assert '{"POST", "^/api/v1/data/load$", "trade"}' in lua
