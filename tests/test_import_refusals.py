"""A bad file is refused whole, with the lines a person sees, and writes nothing; --skip-invalid
imports the rest; the same file twice is refused; the same content twice changes nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from commands.context import AppContext
from commands.import_refusals import ImportRefused
from commands.importing import import_aging_file
from storage.models import Base, ImportBatch, Invoice

BAD_FILE = """Open items export
As of November 23, 2026
Customer ID,Customer Name,Invoice No.,Due Date,Original Amount,Amount Due,Currency
C1,Acme Dental Group,1001,2026-11-01,100.00,100.00,USD
C1,Acme Dental Group,1002,2026-13-01,200.00,200.00,USD
C2,Birch & Sons,2001,2026-11-05,"1,500.00","1,500.00",USD
C2,Birch & Sons,2002,2026-11-06,50.00,75.00,USD
C3,Cobalt Imaging,3001,2026-11-07,12.345,12.345,USD
C3,Cobalt Imaging,3002,2026-11-08,80.00,80.00,USD
"""


def _counts(ctx: AppContext) -> dict[str, int]:
    """Rows in every table: "nothing written" means none of these moved."""
    with ctx.sessions() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table)) for table in Base.metadata.sorted_tables
        }


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_file_with_bad_rows_is_refused_with_their_lines_and_writes_nothing(ctx: AppContext, tmp_path: Path) -> None:
    before = _counts(ctx)
    with pytest.raises(ImportRefused) as refused:
        import_aging_file(ctx, _write(tmp_path, "bad.csv", BAD_FILE))

    assert refused.value.messages == [
        "bad.csv: 3 of 6 rows are invalid; nothing was imported",
        "row 5: due date '2026-13-01' is not a date",
        "row 7: open balance '75.00' is larger than the amount '50.00'",
        "row 8: open balance '12.345' has fractions of a cent; amount '12.345' has fractions of a cent",
    ]
    assert _counts(ctx) == before


def test_skip_invalid_imports_the_rest_and_reports_what_it_skipped(ctx: AppContext, tmp_path: Path) -> None:
    result = import_aging_file(ctx, _write(tmp_path, "bad.csv", BAD_FILE), skip_invalid=True)

    assert (result.rows, result.skipped_rows, result.inserted) == (6, 3, 3)
    assert result.skipped[0] == "row 5: due date '2026-13-01' is not a date"
    with ctx.sessions() as session:
        numbers = sorted(session.scalars(select(Invoice.number)))
        batch = session.scalars(select(ImportBatch)).one()
    assert numbers == ["1001", "2001", "3002"]
    assert (batch.skipped, batch.inserted) == (3, 3)


def test_skipped_rows_do_not_close_their_customers_items(ctx: AppContext, tmp_path: Path) -> None:
    good = (
        BAD_FILE.replace("2026-13-01", "2026-12-01")
        .replace("50.00,75.00", "75.00,75.00")
        .replace("12.345,12.345", "12.34,12.34")
    )
    import_aging_file(ctx, _write(tmp_path, "good.csv", good))
    result = import_aging_file(ctx, _write(tmp_path, "bad.csv", BAD_FILE), skip_invalid=True)
    assert (result.closed, result.payments) == (0, 0)  # 1002, 2002 and 3001 were unreadable, not paid
    with ctx.sessions() as session:
        assert session.scalar(select(func.count()).where(Invoice.closed_on.is_not(None))) == 0


def test_duplicate_invoice_numbers_name_both_lines(ctx: AppContext, tmp_path: Path) -> None:
    text = (
        "Customer,Invoice #,Due Date,Balance\nAcme,1,11/21/2026,5.00\nBeta,1,11/21/2026,5.00\nAcme,1,11/22/2026,7.00\n"
    )
    with pytest.raises(ImportRefused) as refused:
        import_aging_file(ctx, _write(tmp_path, "dup.csv", text))
    assert refused.value.messages[1:] == [
        "row 2: invoice 1 for Acme is listed more than once (also row 4)",
        "row 4: invoice 1 for Acme is listed more than once (also row 2)",
    ]


def test_other_row_problems_are_named(ctx: AppContext, tmp_path: Path) -> None:
    text = (
        "Customer ID,Customer,Invoice No,Due Date,Amount,Balance,Currency,Owner\n"
        ",Acme,1,2026-11-01,5.00,5.00,USD,\n"
        "C2,Beta,,2026-11-01,5.00,5.00,USD,\n"
        "C3,Gamma,3,,5.00,-5.00,US,\n"
        "C4,Delta,4,2026-11-01,(5.00),5.00,USD,Nobody Known\n"
        "C5,Eps,5,2026-11-01,5.00,,USD,\n"
    )
    with pytest.raises(ImportRefused) as refused:
        import_aging_file(ctx, _write(tmp_path, "mixed.csv", text))
    assert refused.value.messages[1:] == [
        "row 2: missing customer ID",
        "row 3: missing invoice number",
        "row 4: missing due date; open balance '-5.00' and amount '5.00' have different signs; "
        "currency 'US' is not a 3-letter code",
        "row 5: open balance '5.00' and amount '(5.00)' have different signs; "
        "owner 'Nobody Known' is not a collector in the team file",
        "row 6: missing open balance",
    ]


def test_at_most_fifty_rows_are_listed(ctx: AppContext, tmp_path: Path) -> None:
    rows = "".join(f"Acme,{n},not a date,5.00\n" for n in range(120))
    with pytest.raises(ImportRefused) as refused:
        import_aging_file(ctx, _write(tmp_path, "many.csv", "Customer,Num,Due Date,Balance\n" + rows))
    assert len(refused.value.messages) == 52
    assert refused.value.messages[-1] == "and 70 more rows"


def test_unreadable_files_are_refused_in_one_line(ctx: AppContext, tmp_path: Path) -> None:
    cases = {
        "missing.csv": None,
        "notes.csv": "nothing here\nat all\n",
        "header_only.csv": "Customer,Num,Due Date,Balance\n",
        "old.xls": b"\xd0\xcf\x11\xe0rest of an old workbook",
        "picture.csv": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
        "broken.xlsx": b"PK\x03\x04 not really a workbook",
    }
    for name, content in cases.items():
        path = tmp_path / name
        if content is not None:
            path.write_bytes(content if isinstance(content, bytes) else content.encode())
        with pytest.raises(ImportRefused) as refused:
            import_aging_file(ctx, path)
        assert len(refused.value.messages) == 1, name
    assert _counts(ctx)["import_batches"] == 0


def test_the_same_file_twice_is_refused_as_already_imported(ctx: AppContext, samples: Path) -> None:
    first = import_aging_file(ctx, samples / "erp_open_items.csv")
    before = _counts(ctx)
    with pytest.raises(ImportRefused) as refused:
        import_aging_file(ctx, samples / "erp_open_items.csv")
    assert refused.value.messages == [f"already imported as of 2026-11-23 (batch #{first.batch_id}); nothing changed"]
    assert _counts(ctx) == before


def test_the_same_content_in_other_bytes_changes_no_invoice(ctx: AppContext, samples: Path, tmp_path: Path) -> None:
    first = import_aging_file(ctx, samples / "quickbooks_ar_aging_detail.csv")
    with ctx.sessions() as session:
        invoices = session.execute(select(Invoice.__table__)).all()
    before = _counts(ctx)
    copy = tmp_path / "again.csv"  # one more blank line: other bytes, same items
    copy.write_bytes((samples / "quickbooks_ar_aging_detail.csv").read_bytes() + b"\n")

    with pytest.raises(ImportRefused) as refused:
        import_aging_file(ctx, copy)

    assert refused.value.messages == [f"already imported as of 2026-11-23 (batch #{first.batch_id}); nothing changed"]
    assert _counts(ctx) == before
    result = import_aging_file(ctx, copy, as_of=date(2026, 11, 24))  # the next day's export, unchanged
    assert result.unchanged and (result.inserted, result.updated, result.closed, result.payments) == (0, 0, 0, 0)
    with ctx.sessions() as session:
        assert session.execute(select(Invoice.__table__)).all() == invoices


def test_an_older_snapshot_after_a_newer_one_is_refused(ctx: AppContext, samples: Path) -> None:
    import_aging_file(ctx, samples / "erp_open_items.csv", as_of=date(2026, 11, 23))
    before = _counts(ctx)
    with pytest.raises(ImportRefused, match="before the last import"):
        import_aging_file(ctx, samples / "quickbooks_ar_aging_detail.csv", as_of=date(2026, 11, 20))
    assert _counts(ctx) == before
