"""Named value columns over bars: :class:`ValueFrame`, the one in-memory type for indicator
outputs and features at every domain boundary (as :class:`~ktrdr_core.bars.Bars` is for bars).

A frame holds int64 ``timestamps_us`` (the bars' open times, UTC) and a float64 matrix with one
row per bar and one column per name; NaN means "not ready" (warm-up, or an invalid input bar).
On the wire a frame is ``repeated ValueColumn`` (``ktrdr_runtime.bars`` converts).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from ktrdr_core import codes
from ktrdr_core.errors import NotFoundError, ValidationError, suggest


@dataclasses.dataclass(frozen=True, slots=True)
class ValueFrame:
    """Values per bar and name: ``values[i, j]`` is column ``names[j]`` at bar ``i``.

    The constructor coerces dtypes (int64 timestamps, float64 values) and checks the shape and
    that names are unique.
    """

    timestamps_us: np.ndarray
    names: tuple[str, ...]
    values: np.ndarray

    def __post_init__(self) -> None:
        stamps = np.ascontiguousarray(np.asarray(self.timestamps_us, dtype=np.int64))
        names = tuple(str(n) for n in self.names)
        values = np.asarray(self.values, dtype=np.float64)
        if values.size == 0:
            values = values.reshape(len(stamps), len(names))
        if stamps.ndim != 1 or values.shape != (len(stamps), len(names)):
            raise ValidationError(
                codes.INVALID_VALUES,
                f"Values of shape {values.shape} do not fit {len(stamps)} bars x "
                f"{len(names)} names.",
                field="values",
            )
        if len(set(names)) != len(names):
            twice = sorted({n for n in names if names.count(n) > 1})
            raise ValidationError(
                codes.INVALID_VALUES, f"Column names repeat: {', '.join(twice)}.", field="values"
            )
        object.__setattr__(self, "timestamps_us", stamps)
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "values", values)

    def __len__(self) -> int:
        return len(self.timestamps_us)

    @classmethod
    def from_columns(
        cls, timestamps_us: np.ndarray | Sequence[int], columns: Mapping[str, np.ndarray]
    ) -> ValueFrame:
        """A frame from named 1-D columns (kept in the mapping's order)."""
        stamps = np.asarray(timestamps_us, dtype=np.int64)
        names = tuple(columns)
        matrix = np.empty((len(stamps), len(names)), dtype=np.float64)
        for j, name in enumerate(names):
            column = np.asarray(columns[name], dtype=np.float64)
            if column.shape != (len(stamps),):
                raise ValidationError(
                    codes.INVALID_VALUES,
                    f"Column '{name}' has shape {column.shape} for {len(stamps)} bars.",
                    field=f"values.{name}",
                )
            matrix[:, j] = column
        return cls(stamps, names, matrix)

    @classmethod
    def empty(cls, names: Iterable[str] = ()) -> ValueFrame:
        names = tuple(names)
        return cls(np.empty(0, np.int64), names, np.empty((0, len(names)), np.float64))

    @classmethod
    def concat(cls, parts: Sequence[ValueFrame]) -> ValueFrame:
        """The parts one after the other; they must have the same names."""
        if not parts:
            return cls.empty()
        names = parts[0].names
        for part in parts[1:]:
            if part.names != names:
                raise ValidationError(
                    codes.INVALID_VALUES,
                    "Frames to concatenate have different columns.",
                    field="values",
                )
        return cls(
            np.concatenate([p.timestamps_us for p in parts]),
            names,
            np.concatenate([p.values for p in parts], axis=0),
        )

    def column(self, name: str) -> np.ndarray:
        """One column (a view); NOT_FOUND with close matches for an unknown name."""
        try:
            j = self.names.index(name)
        except ValueError:
            raise NotFoundError(
                codes.INVALID_VALUES,
                f"No column '{name}'; columns are {', '.join(self.names) or 'none'}.",
                field=f"values.{name}",
                suggestions=suggest(name, self.names),
            ) from None
        column: np.ndarray = self.values[:, j]
        return column

    def columns(self) -> dict[str, np.ndarray]:
        """Every column by name, in order (views)."""
        return {name: self.values[:, j] for j, name in enumerate(self.names)}

    def select(self, names: Sequence[str]) -> ValueFrame:
        """The named columns, in the order given."""
        index = [self.names.index(n) if n in self.names else -1 for n in names]
        if -1 in index:
            self.column(names[index.index(-1)])  # raises NOT_FOUND naming it
        return ValueFrame(self.timestamps_us, tuple(names), self.values[:, index])

    def renamed(self, names: Sequence[str]) -> ValueFrame:
        """The same values under new names (one per column)."""
        return ValueFrame(self.timestamps_us, tuple(names), self.values)

    def with_prefix(self, old: str, new: str) -> ValueFrame:
        """The same values, ``old`` at the start of each name replaced by ``new``
        (``macd_12_26_9.signal`` -> ``trend.signal``); names without it stay."""
        cut = len(old)
        return self.renamed([new + n[cut:] if n.startswith(old) else n for n in self.names])

    def take(self, selector: slice | np.ndarray) -> ValueFrame:
        """The rows at ``selector`` (a slice, boolean mask or index array)."""
        return ValueFrame(self.timestamps_us[selector], self.names, self.values[selector])

    def equals(self, other: ValueFrame) -> bool:
        """Same timestamps, names and values, NaN equal to NaN (bit-for-bit otherwise)."""
        return (
            self.names == other.names
            and np.array_equal(self.timestamps_us, other.timestamps_us)
            and np.array_equal(self.values, other.values, equal_nan=True)
        )
