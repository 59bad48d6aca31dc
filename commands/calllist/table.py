"""A table of plain numpy columns, one row per customer, for the ranking's steps across accounts.

The ranking picks, filters and reorders 100,000 rows of some thirty columns several times per
list. A pandas frame pays for its index and block manager at each of those steps (a boolean
filter or a reorder copies every block through pandas' take machinery, a column read builds a
Series): about as much as all the arithmetic. Here a step costs exactly the numpy work it asks
for, and only the columns a step touches are copied. pandas stays at the edges: the public
:func:`commands.calllist.features.load_features` still gives a frame.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd


class Table:
    """Columns of equal length lined up with ``ids`` (customer ids). Never changed in place:
    every step makes a new table (sharing the arrays it did not change), so a table kept by one
    thread can be read by another."""

    __slots__ = ("_columns", "ids")

    def __init__(self, ids: np.ndarray, columns: Mapping[str, np.ndarray]) -> None:
        self.ids = np.asarray(ids, dtype=np.int64)
        self._columns = dict(columns)
        for name, column in self._columns.items():
            if len(column) != len(self.ids):
                raise ValueError(f"column {name} has {len(column)} values for {len(self.ids)} rows")

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, name: str) -> np.ndarray:
        return self._columns[name]

    def __contains__(self, name: object) -> bool:
        return name in self._columns

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    @property
    def columns(self) -> list[str]:
        return list(self._columns)

    def assign(self, **columns: np.ndarray) -> Table:
        """This table with ``columns`` added or replaced (the last ones added go last)."""
        return Table(self.ids, {**self._columns, **{k: np.asarray(v) for k, v in columns.items()}})

    def select(self, names: Sequence[str]) -> Table:
        """Only the named columns (the arrays shared, not copied)."""
        return Table(self.ids, {name: self._columns[name] for name in names})

    def take(self, rows: np.ndarray) -> Table:
        """The rows a boolean mask or an array of positions picks, in that order."""
        return Table(self.ids[rows], {name: column[rows] for name, column in self._columns.items()})

    def positions(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Where each of ``ids`` sits (-1 for an id not in the table); ``ids`` need not be ordered."""
        at: np.ndarray = pd.Index(self.ids).get_indexer(pd.Index(np.asarray(ids, dtype=np.int64)))
        return at

    def records(self) -> list[dict[str, Any]]:
        """The rows as dicts of Python values (ints, floats: what reasons format), built column by
        column: cheap for the few hundred rows that make a list."""
        names = list(self._columns)
        values = [self._columns[name].tolist() for name in names]
        return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)] if names else []

    def frame(self) -> pd.DataFrame:
        """The same rows as a pandas frame indexed by ``customer_id``."""
        return pd.DataFrame(dict(self._columns), index=pd.Index(self.ids, name="customer_id"))

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Table:
        """A frame indexed by customer id as a table."""
        return cls(frame.index.to_numpy(dtype=np.int64), {str(k): frame[k].to_numpy() for k in frame.columns})

    @classmethod
    def concat(cls, parts: Sequence[Table]) -> Table:
        """The parts' rows one after the other; every part has the first one's columns."""
        names = parts[0].columns
        return cls(
            np.concatenate([p.ids for p in parts]),
            {name: np.concatenate([p[name] for p in parts]) for name in names},
        )
