"""Who may call what: the role each RPC needs (``read`` < ``trade`` < ``admin``).

Anything not listed needs ``read``. A new RPC is readable by any key until it is listed here.
"""

from __future__ import annotations

# gRPC method (service.Method, without package version) -> the role it needs.
ADMIN_METHODS: frozenset[str] = frozenset(
    {
        # Training (start or cancel) and deleting models change the model registry.
        "ktrdr.neural.v1.NeuralService/TrainModel",
        "ktrdr.neural.v1.NeuralService/CancelTraining",
        "ktrdr.neural.v1.NeuralService/DeleteModel",
    }
)
TRADE_METHODS: frozenset[str] = frozenset(
    {
        # May fetch from Interactive Brokers or write stored data.
        "ktrdr.data.v1.DataService/LoadData",
        "ktrdr.data.v1.DataService/ImportBars",
        "ktrdr.ib_gateway.v1.IbGatewayService/QualifyContract",
        "ktrdr.ib_gateway.v1.IbGatewayService/StreamHistoricalBars",
        "ktrdr.ib_gateway.v1.IbGatewayService/StreamLiveBars",
        "ktrdr.backtest.v1.BacktestService/RunBacktest",
    }
)

# Paths that need no key (GET/HEAD only).
PUBLIC_PATHS: tuple[str, ...] = ("/healthz", "/api/v1/health", "/api/v1/openapi.json")


def role_for(grpc_path: str) -> str:
    """The role a gRPC path (``/pkg.Service/Method``) needs."""
    name = grpc_path.lstrip("/")
    if name in ADMIN_METHODS:
        return "admin"
    if name in TRADE_METHODS:
        return "trade"
    return "read"
