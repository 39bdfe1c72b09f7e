"""ktrdr_core: what every KTRDR domain shares, with no grpc and no service's internals.

Modules
-------
errors      domain exceptions with stable codes (``KtrdrError`` and its status classes)
codes       the codes the core itself raises
timeframes  bar lengths (``Timeframe``, ``parse_timeframe``)
dates       request dates (``parse_date``, ``to_us``)
calendars   trading calendars (FX 24/5, NYSE, CME) and sessions
bars        ``Bars``, the one in-memory bar type, and the canonical bar frame
values      ``ValueFrame``, named value columns over bars (indicator outputs, features)
resample    session-aware resampling and look-ahead-free alignment of higher timeframes
sealed      encryption at rest: AES-GCM envelopes, keyrings and key rotation
offload     ``Offload``: how domain code hands CPU work to a worker (``inline`` for scripts)
strategy    the strategy file grammar: fuzzy sets, memberships, features, documents

Every service's domain depends on this package alone; composition roots (each service's app and
the in-process pipeline) wire domains together.
"""
