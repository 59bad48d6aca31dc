"""Text columns as Arrow sees them, for the column-at-a-time parsing of a million-row export.

Pandas keeps the CSV reader's text as Arrow arrays in many chunks; going through Arrow directly
avoids copying a column into one array, or into a trimmed copy of itself, when nothing in it
changes: a clean export has no spaces around its cells, and every copy of a million strings is
fresh memory the process must fault in.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

# A cell whose first or last byte is ASCII whitespace or a control character, or belongs to a
# multi-byte character (all of Unicode's other spaces), may have something to strip.
_LAST_PLAIN_CONTROL, _FIRST_MULTI_BYTE = 0x20, 0x80


def arrow_chunks(column: pd.Series) -> list[pa.Array]:
    """The column's Arrow arrays, without copying them into one."""
    array = pa.array(column, from_pandas=True)
    return list(array.chunks) if isinstance(array, pa.ChunkedArray) else [array]


def arrow_strings(column: pd.Series) -> pa.Array:
    """A string column as one Arrow array (combined from its chunks, at the cost of a copy)."""
    array = pa.array(column, from_pandas=True)
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def stripped(column: pd.Series) -> pd.Series:
    """``column.str.strip()``, returning the column itself when no cell starts or ends with
    anything strip could remove (looked up from each cell's first and last byte)."""
    if len(column) == 0 or any(_may_need_strip(chunk) for chunk in arrow_chunks(column)):
        return column.str.strip()
    return column


def _may_need_strip(chunk: pa.Array) -> bool:
    if chunk.null_count or not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
        return True
    _validity, offsets_buffer, data_buffer = chunk.buffers()
    wide = pa.types.is_large_string(chunk.type)
    every: np.ndarray[Any, np.dtype[np.signedinteger[Any]]] = np.frombuffer(
        offsets_buffer, dtype=np.int64 if wide else np.int32
    )
    offsets = every[chunk.offset : chunk.offset + len(chunk) + 1]
    starts, ends = offsets[:-1], offsets[1:]
    filled = ends > starts
    if not filled.any():
        return False
    data = np.frombuffer(data_buffer, dtype=np.uint8)
    edges = np.concatenate((data[starts[filled]], data[ends[filled] - 1]))
    return bool(((edges <= _LAST_PLAIN_CONTROL) | (edges >= _FIRST_MULTI_BYTE)).any())
