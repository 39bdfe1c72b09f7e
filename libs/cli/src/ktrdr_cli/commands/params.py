"""Parsing helpers shared by the command modules."""

from __future__ import annotations

from typing import Any

import typer


def scalar(text: str) -> Any:
    """``14`` -> 14, ``2.5`` -> 2.5, ``true`` -> True, anything else stays text."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def key_values(items: list[str], *, option: str, numeric: bool = False) -> dict[str, Any]:
    """``["period=14", "source=hl2"]`` -> ``{"period": 14, "source": "hl2"}``."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{item!r} is not KEY=VALUE", param_hint=option)
        parsed = scalar(value)
        if numeric and (isinstance(parsed, bool) or not isinstance(parsed, int | float)):
            raise typer.BadParameter(f"{item!r}: {value!r} is not a number", param_hint=option)
        out[key.strip()] = parsed
    return out
