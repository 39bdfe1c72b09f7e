"""The strategy file grammar (KTRDR v3): documents, fuzzy sets, membership functions, features.

Read by every service that works from a strategy (fuzzy, neural, backtest), so it lives in the
core rather than in one service.
"""
