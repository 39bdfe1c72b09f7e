"""Trading costs: commission models, spread and slippage.

Every fill pays, per unit, the spread part and the slippage, both in basis points of the quoted
price (the bar's open or close) and always against the trader; then the commission, computed on
the fill price. Spread is charged half on each side (``half_each_side``, the default: a round
trip costs the full spread) or all of it at entry (``full_at_entry``, backtesting.py's
convention: its entry price is ``price * (1 + spread)``, exits are unadjusted).
"""

from __future__ import annotations

import dataclasses
import enum
import math
from typing import Protocol

from ktrdr_backtest.domain import errors as codes
from ktrdr_backtest.domain.checks import Problems

MAX_BPS = 10_000.0  # 100 %: anything above is a unit mistake
MAX_RATE = 0.1  # 10 % of the trade value, as backtesting.py bounds its relative commission


class CommissionModel(Protocol):
    """What a broker charges for one fill of ``units`` at ``price`` (>= 0)."""

    def cost(self, units: float, price: float) -> float: ...

    def max_units(self, budget: float, price: float) -> float:
        """The most units (not rounded) whose value plus commission fits in ``budget``."""
        ...


@dataclasses.dataclass(frozen=True, slots=True)
class RateCommission:
    """A fraction of the trade value: ``rate * units * price``; ``rate`` in [0, 0.1)."""

    rate: float = 0.0

    def __post_init__(self) -> None:
        problems = Problems(codes.BAD_ENGINE_CONFIG, "commission")
        problems.check_number("rate", self.rate, low=0, high=MAX_RATE, high_open=True)
        problems.raise_if_any("commission")

    def cost(self, units: float, price: float) -> float:
        return units * price * self.rate

    def max_units(self, budget: float, price: float) -> float:
        return budget / (price * (1.0 + self.rate))


@dataclasses.dataclass(frozen=True, slots=True)
class FixedPlusRateCommission:
    """``fixed + rate * units * price`` per fill; ``fixed`` >= 0, ``rate`` in [0, 0.1)."""

    fixed: float
    rate: float = 0.0

    def __post_init__(self) -> None:
        problems = Problems(codes.BAD_ENGINE_CONFIG, "commission")
        problems.check_number("fixed", self.fixed, low=0)
        problems.check_number("rate", self.rate, low=0, high=MAX_RATE, high_open=True)
        problems.raise_if_any("commission")

    def cost(self, units: float, price: float) -> float:
        return self.fixed + units * price * self.rate

    def max_units(self, budget: float, price: float) -> float:
        return max(0.0, (budget - self.fixed) / (price * (1.0 + self.rate)))


@dataclasses.dataclass(frozen=True, slots=True)
class PerShareCommission:
    """Per unit with a minimum and an optional maximum, as brokers charge.

    ``min(max(minimum, per_share * units), maximum_rate * units * price)``; e.g. IBKR fixed
    pricing for US stocks is ``PerShareCommission(per_share=0.005, minimum=1.0,
    maximum_rate=0.01)``.

    Parameters
    ----------
    per_share
        Charge per unit, >= 0.
    minimum
        Least charge per fill, >= 0.
    maximum_rate
        Cap as a fraction of the trade value, in (0, 0.1); ``None`` for no cap.
    """

    per_share: float
    minimum: float = 0.0
    maximum_rate: float | None = None

    def __post_init__(self) -> None:
        problems = Problems(codes.BAD_ENGINE_CONFIG, "commission")
        problems.check_number("per_share", self.per_share, low=0)
        problems.check_number("minimum", self.minimum, low=0)
        if self.maximum_rate is not None:
            problems.check_number(
                "maximum_rate", self.maximum_rate, low=0, high=MAX_RATE, low_open=True,
                high_open=True,
            )  # fmt: skip
        problems.raise_if_any("commission")

    def cost(self, units: float, price: float) -> float:
        charge = max(self.minimum, self.per_share * units)
        if self.maximum_rate is not None:
            charge = min(charge, self.maximum_rate * units * price)
        return charge

    def max_units(self, budget: float, price: float) -> float:
        # The total n * price + cost(n) grows with n; its inverse is one of three regimes.
        candidates = [(budget - self.minimum) / price, budget / (price + self.per_share)]
        if self.maximum_rate is not None:
            candidates.append(budget / (price * (1.0 + self.maximum_rate)))
        slack = budget * (1 + 1e-12)  # each candidate solves its regime exactly, up to rounding
        fits = [n for n in candidates if n > 0 and n * price + self.cost(n, price) <= slack]
        return max(fits, default=0.0)


class SpreadCharging(enum.StrEnum):
    HALF_EACH_SIDE = "half_each_side"
    FULL_AT_ENTRY = "full_at_entry"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Costs:
    """Costs of every fill.

    Parameters
    ----------
    commission
        A :class:`RateCommission`, :class:`FixedPlusRateCommission` or
        :class:`PerShareCommission`.
    spread_bps, slippage_bps
        In [0, 10000] basis points of the quoted price.
    spread_charging
        ``half_each_side`` (default) or ``full_at_entry`` (backtesting.py).
    """

    commission: CommissionModel = RateCommission(0.0)
    spread_bps: float = 0.0
    slippage_bps: float = 0.0
    spread_charging: SpreadCharging = SpreadCharging.HALF_EACH_SIDE

    def __post_init__(self) -> None:
        problems = Problems(codes.BAD_ENGINE_CONFIG, "costs")
        problems.check_number("spread_bps", self.spread_bps, low=0, high=MAX_BPS)
        problems.check_number("slippage_bps", self.slippage_bps, low=0, high=MAX_BPS)
        if not isinstance(self.spread_charging, SpreadCharging):
            problems.add("spread_charging", f"must be one of {', '.join(SpreadCharging)}.")
        if not isinstance(
            self.commission, RateCommission | FixedPlusRateCommission | PerShareCommission
        ):
            problems.add("commission", f"unknown commission model {self.commission!r}.")
        problems.raise_if_any("costs")

    def spread_fraction(self, *, entry: bool) -> float:
        """The part of the spread one fill pays, as a fraction of the quote."""
        if self.spread_charging is SpreadCharging.FULL_AT_ENTRY:
            return self.spread_bps / 10_000.0 if entry else 0.0
        return self.spread_bps / 20_000.0

    @property
    def slippage_fraction(self) -> float:
        return self.slippage_bps / 10_000.0

    def max_units(self, budget: float, fill_price: float, *, whole_units: bool) -> float:
        """Most units whose value plus commission at ``fill_price`` fits in ``budget``."""
        if budget <= 0:
            return 0.0
        cost = self.commission.cost

        def fits(n: float) -> bool:
            return n * fill_price + cost(n, fill_price) <= budget

        units = self.commission.max_units(budget, fill_price)
        step = 1.0 if whole_units else units * 1e-12
        if whole_units:
            units = float(math.floor(units))
            if fits(units + 1):  # the solution rounded just below a whole number
                units += 1
        # Rounding may leave the total a hair (or, floored, one unit) over the budget.
        while units > 0 and not fits(units):
            units = max(0.0, units - step)
        return units
