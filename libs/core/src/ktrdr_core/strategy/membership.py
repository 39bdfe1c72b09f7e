"""Membership functions: vectorized ``__call__`` and O(1) scalar ``value``, identical results.

Types and parameters (as written in strategy files)
---------------------------------------------------
``triangular``   ``[a, b, c]``      ``a <= b <= c``; 0 at ``a``, 1 at ``b``, 0 at ``c``.
``trapezoidal``  ``[a, b, c, d]``   ``a <= b <= c <= d``; 1 on ``[b, c]``.
``gaussian``     ``[mu, sigma]``    ``sigma > 0``; ``exp(-0.5 ((x - mu) / sigma)^2)``.
``sigmoid``      ``[a, c]``         ``a != 0`` is the slope, ``c`` the centre (value 0.5);
                                    ``1 / (1 + exp(-a (x - c)))``. Same as skfuzzy's
                                    ``sigmf(x, b=c, c=a)``.
``gbell``        ``[a, b, c]``      ``a > 0`` width, ``b > 0`` slope, ``c`` centre;
                                    ``1 / (1 + |(x - c) / a|^(2b))`` (skfuzzy ``gbellmf``).

Shoulders
---------
``shoulder: left`` or ``shoulder: right`` (triangular, trapezoidal and gaussian only) turns the
outer set of a variable into an open-ended one so values beyond it are not a dead zone:

* triangular ``[a, b, c]`` with ``shoulder: left`` is 1 for ``x <= b`` then falls to 0 at ``c``
  (``a`` is still validated, ``a <= b``, but unused); ``shoulder: right`` is 0 up to ``a``,
  rises to 1 at ``b`` and stays 1 for every ``x >= b``.
* trapezoidal ``[a, b, c, d]``: left is 1 for ``x <= c``; right is 1 for ``x >= b``.
* gaussian ``[mu, sigma]``: left is 1 for ``x <= mu``; right is 1 for ``x >= mu``.

Edge cases
----------
* A value exactly at a breakpoint has the defined value: triangular is 0 at ``a``, 1 at ``b``,
  0 at ``c``; a shoulder is 1 at ``b``.
* Degenerate shapes are allowed: ``a == b`` is a vertical left edge (0 for ``x < a``, 1 at
  ``x == b``), ``b == c`` (triangular) a vertical right edge, ``a == b == c`` a spike at ``b``.
* ``NaN`` in gives ``NaN`` out: it means "not ready" (e.g. an indicator's warm-up bars).
* ``+-inf`` is treated as an ordinary, very large value.

Identity of both paths
----------------------
``value(x)`` performs the same IEEE operations in the same order as ``__call__`` and the same
``exp``/``log`` as NumPy: NumPy's own when its float64 ``exp``/``log`` are SIMD implementations
(AVX512 builds differ from ``math.exp`` in the last bit), ``math.exp``/``math.log`` when NumPy
uses the C library's (checked once at import on a probe of values; then the scalar path is about
ten times cheaper), so ``mf.value(x) == mf(np.array([x]))[0]`` for every float ``x``.
:func:`row_evaluator` evaluates many memberships on one row through their scalar paths (the
per-bar path of streaming fuzzification).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike

from ktrdr_core.errors import ValidationError, suggest
from ktrdr_core.strategy import errors as codes

_NAN = float("nan")
_EXP_CAP = 700.0  # exp(700) is finite: keeps the sigmoid free of overflow warnings


def _numpy_uses_libm() -> bool:
    """True when NumPy's float64 ``exp`` and ``log`` give the C library's results (NumPy builds
    without AVX512 call libm), probed on values across the whole range."""
    rng = np.random.default_rng(20_261_129)
    xs = rng.uniform(-745.0, 709.0, 4096)
    ys = np.exp(rng.uniform(-700.0, 700.0, 4096))
    return bool(
        np.array_equal(np.exp(xs), [math.exp(v) for v in xs.tolist()])
        and np.array_equal(np.log(ys), [math.log(v) for v in ys.tolist()])
    )


#: The scalar ``exp`` / ``log``: identical to NumPy's vectorised ones (see the module docstring).
_EXP: Callable[[float], float]
_LOG: Callable[[float], float]
if _numpy_uses_libm():
    _EXP, _LOG = math.exp, math.log
else:  # pragma: no cover - NumPy with SIMD exp/log (AVX512)
    _EXP, _LOG = np.exp, np.log  # type: ignore[assignment]

#: Membership type name -> number of parameters.
MF_TYPES: dict[str, int] = {
    "triangular": 3,
    "trapezoidal": 4,
    "gaussian": 2,
    "sigmoid": 2,
    "gbell": 3,
}
#: Types that accept ``shoulder: left|right``.
SHOULDER_TYPES = frozenset({"triangular", "trapezoidal", "gaussian"})
SHOULDERS = ("left", "right")


class MembershipFunction:
    """Base class: a membership function ``R -> [0, 1]`` (``NaN`` -> ``NaN``).

    Subclasses are frozen dataclasses with ``kind``, ``parameters`` and ``shoulder``.
    """

    kind: ClassVar[str] = ""
    parameters: tuple[float, ...]
    shoulder: str | None

    def __call__(self, x: ArrayLike) -> np.ndarray:
        """Evaluate on an array (any shape); returns a new float64 array of that shape."""
        with np.errstate(over="ignore"):  # huge |x| saturates to 0/1 like the scalar path
            return self._eval(np.asarray(x, dtype=np.float64))

    def _eval(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def value(self, x: float) -> float:
        """Evaluate one value in O(1); identical to ``self(np.array([x]))[0]``."""
        return self._fn(x)  # type: ignore[attr-defined]

    @property
    def scalar(self) -> Callable[[float], float]:
        """The scalar closure behind :meth:`value` (fastest per-value path)."""
        return self._fn  # type: ignore[attr-defined]

    def to_dict(self) -> dict[str, Any]:
        """The strategy-file form, ``{type, parameters[, shoulder]}``."""
        out: dict[str, Any] = {"type": self.kind, "parameters": list(self.parameters)}
        if self.shoulder:
            out["shoulder"] = self.shoulder
        return out


# Edge modes of the piecewise-linear kernel.
_SLOPE, _VERTICAL, _OPEN = 0, 1, 2


@dataclasses.dataclass(frozen=True, slots=True)
class _PiecewiseLinear(MembershipFunction):
    """Shared kernel of triangular and trapezoidal: ``clip(min(L, R), 0, 1)``."""

    parameters: tuple[float, ...]
    shoulder: str | None = None
    _a: float = dataclasses.field(init=False, repr=False, compare=False)
    _b: float = dataclasses.field(init=False, repr=False, compare=False)
    _c: float = dataclasses.field(init=False, repr=False, compare=False)
    _d: float = dataclasses.field(init=False, repr=False, compare=False)
    _left: int = dataclasses.field(init=False, repr=False, compare=False)
    _right: int = dataclasses.field(init=False, repr=False, compare=False)
    _fn: Callable[[float], float] = dataclasses.field(init=False, repr=False, compare=False)

    def _corners(self) -> tuple[float, float, float, float]:
        raise NotImplementedError

    def __post_init__(self) -> None:
        a, b, c, d = self._corners()
        setattr_ = object.__setattr__
        setattr_(self, "_a", a)
        setattr_(self, "_b", b)
        setattr_(self, "_c", c)
        setattr_(self, "_d", d)
        left = _OPEN if self.shoulder == "left" else (_VERTICAL if a == b else _SLOPE)
        right = _OPEN if self.shoulder == "right" else (_VERTICAL if c == d else _SLOPE)
        setattr_(self, "_left", left)
        setattr_(self, "_right", right)
        setattr_(self, "_fn", _piecewise_scalar(a, b, c, d, left, right))

    def _eval(self, x: np.ndarray) -> np.ndarray:
        a, b, c, d = self._a, self._b, self._c, self._d
        y: np.ndarray | None = None
        if self._left == _SLOPE:
            y = (x - a) / (b - a)
        elif self._left == _VERTICAL:
            y = np.where(x >= a, 1.0, 0.0)
        if self._right == _SLOPE:
            r = (d - x) / (d - c)
            y = r if y is None else np.minimum(y, r, out=y)
        elif self._right == _VERTICAL:
            r = np.where(x <= d, 1.0, 0.0)
            y = r if y is None else np.minimum(y, r, out=y)
        if y is None:  # both edges open: constant 1
            y = np.ones_like(x)
        np.minimum(y, 1.0, out=y)
        np.maximum(y, 0.0, out=y)
        if self._left != _SLOPE and self._right != _SLOPE:
            y[np.isnan(x)] = _NAN  # no arithmetic on x carried the NaN through
        return y


@dataclasses.dataclass(frozen=True, slots=True)
class TriangularMF(_PiecewiseLinear):
    """Triangle ``[a, b, c]`` (optionally a left/right shoulder)."""

    kind: ClassVar[str] = "triangular"

    def _corners(self) -> tuple[float, float, float, float]:
        a, b, c = self.parameters
        return a, b, b, c


@dataclasses.dataclass(frozen=True, slots=True)
class TrapezoidalMF(_PiecewiseLinear):
    """Trapezoid ``[a, b, c, d]`` (optionally a left/right shoulder)."""

    kind: ClassVar[str] = "trapezoidal"

    def _corners(self) -> tuple[float, float, float, float]:
        a, b, c, d = self.parameters
        return a, b, c, d


@dataclasses.dataclass(frozen=True, slots=True)
class GaussianMF(MembershipFunction):
    """Gaussian ``[mu, sigma]``; a shoulder is 1 beyond ``mu`` on its side."""

    kind: ClassVar[str] = "gaussian"
    parameters: tuple[float, ...]
    shoulder: str | None = None
    _fn: Callable[[float], float] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        mu, sigma = self.parameters
        left, right = self.shoulder == "left", self.shoulder == "right"
        exp = _EXP

        def fn(x: float) -> float:
            if x != x:
                return _NAN
            z = (x - mu) / sigma
            if left:
                if z < 0.0:
                    z = 0.0
            elif right and z > 0.0:
                z = 0.0
            return exp((z * z) * -0.5)  # type: ignore[no-any-return]

        object.__setattr__(self, "_fn", fn)

    def _eval(self, x: np.ndarray) -> np.ndarray:
        mu, sigma = self.parameters
        z = (x - mu) / sigma
        if self.shoulder == "left":
            np.maximum(z, 0.0, out=z)
        elif self.shoulder == "right":
            np.minimum(z, 0.0, out=z)
        z *= z
        z *= -0.5
        return np.exp(z, out=z)


@dataclasses.dataclass(frozen=True, slots=True)
class SigmoidMF(MembershipFunction):
    """Sigmoid ``[a, c]``: slope ``a`` (negative falls), centre ``c``."""

    kind: ClassVar[str] = "sigmoid"
    parameters: tuple[float, ...]
    shoulder: str | None = None
    _fn: Callable[[float], float] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        a, c = self.parameters
        na = -a
        exp = _EXP

        def fn(x: float) -> float:
            if x != x:
                return _NAN
            t = (x - c) * na
            if t > _EXP_CAP:
                t = _EXP_CAP
            return 1.0 / (exp(t) + 1.0)  # type: ignore[no-any-return]

        object.__setattr__(self, "_fn", fn)

    def _eval(self, x: np.ndarray) -> np.ndarray:
        a, c = self.parameters
        t = (x - c) * -a
        np.minimum(t, _EXP_CAP, out=t)
        np.exp(t, out=t)
        t += 1.0
        return np.divide(1.0, t, out=t)


@dataclasses.dataclass(frozen=True, slots=True)
class GBellMF(MembershipFunction):
    """Generalized bell ``[a, b, c]``: ``1 / (1 + |(x - c) / a|^(2b))``.

    ``(z^2)^b`` is a chain of multiplications for integer ``b`` in 1..16, otherwise
    ``exp(b * log(z^2))``, the same way in both paths.
    """

    kind: ClassVar[str] = "gbell"
    parameters: tuple[float, ...]
    shoulder: str | None = None
    _cap: float = dataclasses.field(init=False, repr=False, compare=False)
    _int_b: int = dataclasses.field(init=False, repr=False, compare=False)
    _fn: Callable[[float], float] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        a, b, c = self.parameters
        # (z^2)^b stays below 1e300 when z^2 <= cap: no overflow, value ~0 beyond.
        cap = 10.0 ** min(300.0 / b, 300.0)
        int_b = int(b) if b == int(b) and 1 <= b <= 16 else 0
        object.__setattr__(self, "_cap", cap)
        object.__setattr__(self, "_int_b", int_b)
        exp, log = _EXP, _LOG

        def fn(x: float) -> float:
            if x != x:
                return _NAN
            z = (x - c) / a
            zz = z * z
            if zz > cap:
                zz = cap
            if int_b:
                p = zz
                for _ in range(int_b - 1):
                    p = p * zz
            else:
                p = exp(b * log(zz)) if zz != 0.0 else 0.0
            return 1.0 / (p + 1.0)  # type: ignore[no-any-return]

        object.__setattr__(self, "_fn", fn)

    def _eval(self, x: np.ndarray) -> np.ndarray:
        a, b, c = self.parameters
        z = (x - c) / a
        z *= z
        np.minimum(z, self._cap, out=z)
        if self._int_b:
            p = z.copy()
            for _ in range(self._int_b - 1):
                p *= z
        else:
            with np.errstate(divide="ignore"):
                p = np.log(z)
            p *= b
            np.exp(p, out=p)
        p += 1.0
        return np.divide(1.0, p, out=p)


def _piecewise_scalar(
    a: float, b: float, c: float, d: float, left: int, right: int
) -> Callable[[float], float]:
    """Scalar kernel of :class:`_PiecewiseLinear`, same operations as its ``_eval``."""
    ba, dc = b - a, d - c
    if left == _SLOPE and right == _SLOPE:

        def both(x: float) -> float:
            if x != x:
                return _NAN
            y = (x - a) / ba
            r = (d - x) / dc
            if r < y:
                y = r
            return 1.0 if y > 1.0 else (0.0 if y < 0.0 else y)

        return both

    def general(x: float) -> float:
        if x != x:
            return _NAN
        if left == _SLOPE:
            y = (x - a) / ba
        elif left == _VERTICAL:
            y = 1.0 if x >= a else 0.0
        else:
            y = 1.0
        if right == _SLOPE:
            r = (d - x) / dc
            if r < y:
                y = r
        elif right == _VERTICAL and x > d:
            y = 0.0
        return 1.0 if y > 1.0 else (0.0 if y < 0.0 else y)

    return general


def row_evaluator(
    plan: Sequence[tuple[int, MembershipFunction]],
) -> Callable[[Sequence[float]], list[float]]:
    """One function evaluating many memberships on a row of input values.

    Parameters
    ----------
    plan
        ``(input index, membership)`` per output, in output order.

    Returns
    -------
    evaluate
        ``evaluate(row) -> list[float]``: output ``k`` is ``plan[k][1].value(row[plan[k][0]])``,
        bit for bit (each membership's scalar closure, on the input as a Python float).
    """
    steps = tuple((i, mf.scalar) for i, mf in plan)

    def evaluate(row: Sequence[float]) -> list[float]:
        return [fn(float(row[i])) for i, fn in steps]

    return evaluate


_CLASSES: dict[str, type[MembershipFunction]] = {
    "triangular": TriangularMF,
    "trapezoidal": TrapezoidalMF,
    "gaussian": GaussianMF,
    "sigmoid": SigmoidMF,
    "gbell": GBellMF,
}
_PARAM_NAMES: dict[str, tuple[str, ...]] = {
    "triangular": ("a", "b", "c"),
    "trapezoidal": ("a", "b", "c", "d"),
    "gaussian": ("mu", "sigma"),
    "sigmoid": ("a (slope)", "c (center)"),
    "gbell": ("a (width)", "b (slope)", "c (center)"),
}


def make_membership(
    kind: str,
    parameters: Sequence[Any],
    shoulder: str | None = None,
    *,
    field: str = "membership",
) -> MembershipFunction:
    """Validate a definition and build its membership function.

    Parameters
    ----------
    kind
        One of :data:`MF_TYPES`.
    parameters
        The numbers, as in the strategy file.
    shoulder
        ``None``, ``"left"`` or ``"right"`` (triangular, trapezoidal, gaussian only).
    field
        Config path of the membership, used in error fields, e.g.
        ``fuzzy_sets.rsi_14.oversold``.

    Raises
    ------
    ValidationError
        FUZZY-001 unknown type, FUZZY-002 parameter count, FUZZY-003 non-numeric,
        FUZZY-004 order, FUZZY-005 scale/slope, FUZZY-007 bad shoulder.
    """
    if not isinstance(kind, str) or kind not in MF_TYPES:
        raise ValidationError(
            codes.UNKNOWN_MF_TYPE,
            f"'{field}' has unknown membership type {kind!r}; use one of {', '.join(MF_TYPES)}.",
            field=f"{field}.type",
            suggestions=suggest(str(kind), MF_TYPES, cutoff=0.5),
        )
    names = _PARAM_NAMES[kind]
    if isinstance(parameters, (str, bytes)) or not isinstance(parameters, Sequence):
        raise ValidationError(
            codes.PARAM_COUNT,
            f"'{field}.parameters' must be a list of {len(names)} numbers "
            f"[{', '.join(names)}] for a {kind} membership.",
            field=f"{field}.parameters",
        )
    if len(parameters) != MF_TYPES[kind]:
        raise ValidationError(
            codes.PARAM_COUNT,
            f"'{field}': a {kind} membership takes {len(names)} parameters "
            f"[{', '.join(names)}], got {len(parameters)}.",
            field=f"{field}.parameters",
        )
    values: list[float] = []
    for i, p in enumerate(parameters):
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not math.isfinite(p):
            raise ValidationError(
                codes.PARAM_NOT_NUMBER,
                f"'{field}.parameters[{i}]' ({names[i]}) must be a finite number, got {p!r}.",
                field=f"{field}.parameters[{i}]",
            )
        values.append(float(p))
    if kind in ("triangular", "trapezoidal"):
        for i in range(1, len(values)):
            if values[i] < values[i - 1]:
                raise ValidationError(
                    codes.PARAM_ORDER,
                    f"'{field}.parameters[{i}]' ({names[i]} = {values[i]:g}) must be >= "
                    f"{names[i - 1]} = {values[i - 1]:g}: parameters must satisfy "
                    f"{' <= '.join(names)}.",
                    field=f"{field}.parameters[{i}]",
                )
    elif kind == "gaussian" and values[1] <= 0:
        raise ValidationError(
            codes.PARAM_SCALE,
            f"'{field}.parameters[1]' (sigma) must be > 0, got {values[1]:g}.",
            field=f"{field}.parameters[1]",
        )
    elif kind == "sigmoid" and values[0] == 0:
        raise ValidationError(
            codes.PARAM_SCALE,
            f"'{field}.parameters[0]' (slope a) must be non-zero (negative for a falling sigmoid).",
            field=f"{field}.parameters[0]",
        )
    elif kind == "gbell":
        for i in (0, 1):
            if values[i] <= 0:
                raise ValidationError(
                    codes.PARAM_SCALE,
                    f"'{field}.parameters[{i}]' ({names[i]}) must be > 0, got {values[i]:g}.",
                    field=f"{field}.parameters[{i}]",
                )
    if shoulder is not None:
        if kind not in SHOULDER_TYPES:
            raise ValidationError(
                codes.BAD_FUZZY_SET,
                f"'{field}.shoulder' is only allowed on {', '.join(sorted(SHOULDER_TYPES))} "
                f"memberships, not {kind} (a sigmoid is already open-ended).",
                field=f"{field}.shoulder",
            )
        if shoulder not in SHOULDERS:
            raise ValidationError(
                codes.BAD_FUZZY_SET,
                f"'{field}.shoulder' must be 'left' or 'right', got {shoulder!r}.",
                field=f"{field}.shoulder",
                suggestions=suggest(str(shoulder), SHOULDERS, cutoff=0.4),
            )
    return _CLASSES[kind](tuple(values), shoulder)  # type: ignore[call-arg]
