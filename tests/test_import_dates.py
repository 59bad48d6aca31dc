"""Dates are read per file: day-first or month-first is decided from all its values (or said with
--date-format); a file that cannot tell is refused with how to say it; implausible dates are
refused with their rows, or skipped and listed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from bot.cli import build_parser
from bot.cli_import import run
from commands.context import AppContext
from commands.import_refusals import ImportRefused
from commands.importing import import_aging_file
from storage.aging.dates import DateOrderError, date_order
from storage.models import Invoice

SEMICOLON = "Kundennummer;Customer;Invoice No.;Invoice Date;Due Date;Amount Due\n"


def _file(tmp_path: Path, rows: list[str], header: str = SEMICOLON, name: str = "items.csv") -> Path:
    path = tmp_path / name
    path.write_text(header + "".join(row + "\n" for row in rows))
    return path


def _dues(ctx: AppContext) -> dict[str, date]:
    with ctx.sessions() as session:
        return {n: d for n, d in session.execute(select(Invoice.number, Invoice.due_date))}


def test_a_day_first_file_is_read_day_first(ctx: AppContext, tmp_path: Path) -> None:
    rows = ["C1;Acme;1;01/09/2026;01/10/2026;100.00", "C1;Acme;2;25/09/2026;25/10/2026;50.00"]
    import_aging_file(ctx, _file(tmp_path, rows))
    assert _dues(ctx) == {"1": date(2026, 10, 1), "2": date(2026, 10, 25)}


def test_a_month_first_file_is_read_month_first(ctx: AppContext, tmp_path: Path) -> None:
    rows = ["C1,Acme,1,09/01/2026,10/01/2026,100.00", "C1,Acme,2,09/25/2026,10/25/2026,50.00"]
    import_aging_file(ctx, _file(tmp_path, rows, header=SEMICOLON.replace(";", ",")))
    assert _dues(ctx) == {"1": date(2026, 10, 1), "2": date(2026, 10, 25)}


def test_a_file_that_cannot_tell_is_refused_saying_how_to_say_it(
    ctx: AppContext, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _file(tmp_path, ["C1;Acme;1;01/09/2026;01/10/2026;100.00", "C1;Acme;2;02/09/2026;02/10/2026;5.00"])
    code = run(ctx, build_parser().parse_args(["import", str(path)]))
    assert code == 1
    err = capsys.readouterr().err
    assert "dates such as '01/10/2026' can be read day-first or month-first" in err
    assert "--date-format dmy" in err and "--date-format mdy" in err
    assert _dues(ctx) == {}

    assert run(ctx, build_parser().parse_args(["import", str(path), "--date-format", "dmy"])) == 0
    assert _dues(ctx) == {"1": date(2026, 10, 1), "2": date(2026, 10, 2)}


def test_skip_invalid_no_longer_lets_ambiguous_dates_in(ctx: AppContext, tmp_path: Path) -> None:
    path = _file(tmp_path, ["C1;Acme;1;01/09/2026;01/10/2026;100.00"])
    with pytest.raises(ImportRefused, match="can be read day-first or month-first"):
        import_aging_file(ctx, path, skip_invalid=True)


def test_order_is_decided_from_every_value() -> None:
    assert date_order([pd.Series(["01/10/2026", "2026-11-03", "13/10/2026"])]) == "dmy"
    assert date_order([pd.Series(["01/10/2026"]), pd.Series(["10/13/2026"])]) == "mdy"
    assert date_order([pd.Series(["01/01/2026", "2026-11-03", "Nov 3, 2026", ""])]) == "mdy"  # nothing to tell
    assert date_order([pd.Series(["01/10/2026"])], given="dmy") == "dmy"
    with pytest.raises(DateOrderError, match="mix day-first"):
        date_order([pd.Series(["13/10/2026", "10/13/2026"])])
    with pytest.raises(DateOrderError, match="nothing in the file tells"):
        date_order([pd.Series(["01/10/2026", "05/05/2026"])])


def test_implausible_dates_are_refused_with_their_rows(ctx: AppContext, tmp_path: Path) -> None:
    header = "Customer ID,Customer,Invoice No.,Invoice Date,Due Date,Amount Due\n"
    rows = [
        "C1,Acme,1,2026-10-01,1900-01-01,100.00",
        "C1,Acme,2,2026-12-01,2026-11-01,50.00",
        "C1,Acme,3,2026-10-01,2028-01-01,50.00",
        "C1,Acme,4,2026-10-01,2026-11-01,50.00",
    ]
    with pytest.raises(ImportRefused) as refused:
        import_aging_file(ctx, _file(tmp_path, rows, header=header), as_of=date(2026, 11, 23))
    assert refused.value.messages[1:] == [
        "row 2: due date '1900-01-01' is before 2000; invoice date '2026-10-01' is after the due date '1900-01-01'",
        "row 3: invoice date '2026-12-01' is after the due date '2026-11-01'",
        "row 4: due date '2028-01-01' is more than a year after 2026-11-23",
    ]
    result = import_aging_file(ctx, tmp_path / "items.csv", as_of=date(2026, 11, 23), skip_invalid=True)
    assert (result.inserted, result.skipped_rows) == (1, 3)
    assert result.skipped[0].startswith("row 2: due date '1900-01-01' is before 2000")
