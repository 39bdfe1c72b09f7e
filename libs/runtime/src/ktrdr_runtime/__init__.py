"""ktrdr_runtime: the one runtime every KTRDR service runs on (grpc, generated code, the core).

Modules
-------
server       ``ServiceSpec``, ``create_server``, ``main``: the bootstrap (health, reflection,
             interceptors, settings, metrics, SIGTERM)
settings     ``ServiceSettings`` from the environment; ``DEFAULT_PORTS``
services     the one service list (``NAMES``), runnable as a script
channels     ``open_channel``: deadlines, request ids, retries of reads
grpc_errors  domain errors <-> gRPC status (both directions)
codes        the ``RUNTIME-*`` codes
bars         protobuf <-> core types (``Bars``, ``ValueFrame``, parameter Structs)
sources      gRPC-client implementations of the domains' source Protocols (``GrpcBarSource``,
             ``GrpcIndicatorSource``, ``GrpcIndicatorCatalogue``)
streams      ``GrpcStrategyStream``: StreamIndicators piped into StreamFuzzy for a strategy
workers      ``offload``: CPU work in the process's worker pool, off the event loop
servicers    ``ConfigFirstStream``, ``fill_unimplemented``
testing      ``serve_in_process`` for tests
"""
