"""Reading and checking an export before any transaction opens: the file's bytes, its items
parsed and checked row by row, the snapshot date, and a digest of what it says. A file with
invalid rows is refused whole (every reason, by the line a person sees) unless the caller asks
to skip them, so a refused file never holds the database's write lock."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.core.util.hashing import combine_hash_arrays  # type: ignore[attr-defined]  # not in the stubs

from commands.context import AppContext
from commands.import_refusals import ImportRefused
from storage.aging import (
    AgingFileError,
    CheckedItems,
    Progress,
    as_of_from_titles,
    check_items,
    format_problems,
    parse_items,
    read_table,
)


@dataclass(frozen=True)
class CheckedFile:
    checked: CheckedItems
    layout: str
    fields: frozenset[str]
    rows: int
    as_of: date
    content: str  # digest of what the file says (items, refused customers, columns), not of its bytes


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ImportRefused([f"{path}: no such file"]) from None
    except OSError as exc:
        raise ImportRefused([f"{path}: cannot be read ({exc.strerror or exc})"]) from None


def check_file(
    ctx: AppContext,
    data: bytes,
    name: str,
    *,
    skip_invalid: bool,
    progress: Progress | None,
    date_format: str | None,
    as_of: date | None,
) -> CheckedFile:
    """Read, parse and check the file; refuse it whole unless invalid rows may be skipped."""
    if progress:
        progress.stage("reading and checking", 0)
    try:
        table = read_table(data)
        parsed = parse_items(table, date_format)
        snapshot_date = as_of or as_of_from_titles(table.titles, parsed.date_order) or ctx.today()
        checked = check_items(parsed, table, owners=_owners(ctx), as_of=snapshot_date)
    except AgingFileError as exc:
        raise ImportRefused([f"{name}: {exc}"]) from None
    rows = len(parsed.frame)
    if rows == 0:
        raise ImportRefused([f"{name}: the file lists no open items; nothing was imported"])
    if checked.problems and not skip_invalid:
        head = f"{name}: {len(checked.problems)} of {rows} rows are invalid; nothing was imported"
        raise ImportRefused([head, *format_problems(checked.problems)])
    if checked.items.empty:
        raise ImportRefused([f"{name}: no valid rows to import", *format_problems(checked.problems)])
    return CheckedFile(
        checked=checked,
        layout=parsed.layout,
        fields=parsed.fields,
        rows=rows,
        as_of=snapshot_date,
        content=_content_digest(checked, parsed.fields),
    )


def _content_digest(checked: CheckedItems, fields: frozenset[str]) -> str:
    """Order-free digest of the items as the ledger would take them: the same export saved with
    other line endings, quoting or row order has the same content. One hash pass per column,
    combined as ``pandas.util.hash_pandas_object`` of the frame does (digests are kept in the audit
    trail and compared with later imports, so they must not change); the invoice numbers, nearly
    all distinct, are hashed as they are rather than first gathered into distinct values (the
    same hashes without a hash table of a million strings), once, by the duplicate check."""
    items = checked.items
    columns = (
        checked.number_hashes
        if name == "number" and checked.number_hashes is not None and len(checked.number_hashes) == len(items)
        else pd.util.hash_pandas_object(items[name], index=False, categorize=name != "number").to_numpy()
        for name in items.columns
    )
    row_hashes = np.sort(combine_hash_arrays(columns, len(items.columns)))
    digest = hashlib.sha256(row_hashes.tobytes())
    digest.update("\x1f".join(sorted(fields)).encode())
    digest.update("\x1e".join(sorted(checked.refused_customers)).encode())
    return digest.hexdigest()


def _owners(ctx: AppContext) -> dict[str, str]:
    """How an owner column may name a collector: by email or by the name in the team file."""
    lookup = {}
    for member in ctx.team.collectors:
        lookup[member.email.lower()] = member.email
        lookup[member.name.strip().lower()] = member.email
    return lookup
