"""An Acme Dental export and its place on the call list, for the dispute tests."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from commands.calllist import build_call_list
from commands.calllist.cutoffs import cutoffs_for
from commands.calllist.features import load_features
from commands.calllist.policy import load_policy
from commands.calllist.ranking import collectible
from commands.context import AppContext
from tests.support.world import DANA

ACME_ROWS = {
    "INV-1": "C100,Acme Dental Group,INV-1,Standard,2026-10-01,{inv1}\n",
    "INV-2": "C100,Acme Dental Group,INV-2,Recurring,2026-11-30,500.00\n",
    "INV-3": "C100,Acme Dental Group,INV-3,Final,2026-08-01,2000.00\n",
    "CM-1": "C100,Acme Dental Group,CM-1,Credit Memo,2026-11-10,-250.00\n",
    "INV-4": "C100,Acme Dental Group,INV-4,Standard,2026-09-01,100.10\n",
}


def acme_export(tmp_path: Path, name: str, *, inv1: str = "1000.00", extra: str = "") -> Path:
    """Acme Dental's items as the ERP exports them, INV-1 at ``inv1``, with ``extra`` rows."""
    path = tmp_path / name
    path.write_text(
        "Customer ID,Customer Name,Invoice No.,Invoice Type,Due Date,Amount Due\n"
        + "".join(row.format(inv1=inv1) for row in ACME_ROWS.values())
        + extra
    )
    return path


def acme_on_the_list(ctx: AppContext, ids: dict[str, int]) -> tuple[int, tuple[str, ...]]:
    """Acme Dental's collectible cents as the list ranks it, and its reasons on Dana's list."""
    day = date(2026, 11, 23)
    with ctx.sessions() as session:
        cut = cutoffs_for(day, load_policy(), ctx.calendar, ctx.team.timezone)
        frame = collectible(load_features(session, cut, collector_id=None))
        rows = build_call_list(session, ctx, day=day, collector_email=DANA)
    return int(frame.loc[ids["C100"], "collectible"]), next(r.reasons for r in rows if r.erp_id == "C100")
