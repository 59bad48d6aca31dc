"""A ledger with known KPI figures, for the report tests."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from commands.context import AppContext
from commands.importing import import_aging_file
from storage.models import (
    Activity,
    ActivityKind,
    ApprovalKind,
    ApprovalRequest,
    ApprovalStatus,
    ConfirmationStatus,
    Customer,
    Dispute,
    DisputeStatus,
    Outcome,
    PaymentConfirmation,
    Promise,
    PromiseStatus,
    TeamMember,
)

HEADER = (
    "Customer ID,Customer Name,Collector,Invoice No.,Invoice Type,Invoice Date,Due Date,Original Amount,Amount Due\n"
)


DANA, SAM = "dana.reyes@example.com", "sam.okafor@example.com"


A, B = f"A,Acme Dental,{DANA}", f"B,Birch & Sons,{DANA}"


C, D = f"C,Cobalt Imaging,{SAM}", f"D,Delta Health,{SAM}"


CHICAGO = ZoneInfo("America/Chicago")


SEP_30 = [  # B = 600 + 500 + 2000 - 300 + 800 - 200 = 3400
    f"{A},A1,Standard,2026-08-01,2026-08-31,1000.00,600.00",  # partly paid before the period
    f"{A},A2,Standard,2026-09-10,2026-10-10,500.00,500.00",
    f"{B},B1,Standard,2026-06-01,2026-07-01,2000.00,2000.00",
    f"{B},BCM,Credit Memo,2026-09-15,2026-09-15,-300.00,-300.00",
    f"{C},C1,Standard,2026-09-01,2026-10-01,800.00,800.00",
    f"{C},CCM,Credit Memo,2026-09-20,2026-09-20,-200.00,-200.00",
]


OCT_31 = [
    # A1 paid (600); A2 partly paid (300)
    f"{A},A2,Standard,2026-09-10,2026-10-10,500.00,200.00",
    f"{A},A3,Standard,2026-10-05,2026-11-04,700.00,700.00",
    f"{B},B1,Standard,2026-06-01,2026-07-01,2000.00,500.00",  # 1500 paid
    f"{B},BCM,Credit Memo,2026-09-15,2026-09-15,-300.00,-300.00",
    f"{B},B2,Standard,2026-10-20,2026-11-19,400.00,400.00",
    # C1 settled by the credit memo CCM and 600 of cash: both gone
    f"{C},C2,Recurring,2026-10-01,2026-10-30,250.00,250.00",
    f"{C},C3,Credit Memo,2026-10-15,2026-10-15,-100.00,-100.00",
    f"{D},D1,Standard,,2026-11-15,300.00,300.00",  # no issue date: counted as issued 16 Oct
]


NOV_20 = [
    # A2 paid (200); B1 paid (500); D1 partly paid (200); B3 new in November
    f"{A},A3,Standard,2026-10-05,2026-11-04,700.00,700.00",
    f"{B},BCM,Credit Memo,2026-09-15,2026-09-15,-300.00,-300.00",
    f"{B},B2,Standard,2026-10-20,2026-11-19,400.00,400.00",
    f"{B},B3,Standard,2026-11-10,2026-12-10,900.00,900.00",
    f"{C},C2,Recurring,2026-10-01,2026-10-30,250.00,250.00",
    f"{C},C3,Credit Memo,2026-10-15,2026-10-15,-100.00,-100.00",
    f"{D},D1,Standard,,2026-11-15,300.00,100.00",
]


def _local(day: int, hour: int, month: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=CHICAGO)


def build_ledger(ctx: AppContext, tmp_path: Path, *, through_november: bool = True) -> None:
    """The three snapshots, then what the team did in October (and around it)."""
    snapshots = [(SEP_30, date(2026, 9, 30)), (OCT_31, date(2026, 10, 31))]
    if through_november:
        snapshots.append((NOV_20, date(2026, 11, 20)))
    for n, (rows, as_of) in enumerate(snapshots):
        path = tmp_path / f"aging{n}.csv"
        path.write_text(HEADER + "".join(row + "\n" for row in rows))
        import_aging_file(ctx, path, as_of=as_of)
    with ctx.sessions.begin() as session:
        ids = {e: i for e, i in session.execute(select(Customer.erp_id, Customer.id))}
        member = {e: i for e, i in session.execute(select(TeamMember.email, TeamMember.id))}
        made = _local(1, 8, month=9)
        session.add_all(
            [
                # Due in October: kept 300 (A) + 200 (C), broken 1000 (B); outside or undecided: not counted.
                Promise(
                    customer_id=ids["A"],
                    member_id=member[DANA],
                    amount=Decimal("300.00"),
                    promised_date=date(2026, 10, 20),
                    status=PromiseStatus.KEPT,
                    created_at=made,
                ),
                Promise(
                    customer_id=ids["B"],
                    member_id=member[DANA],
                    amount=Decimal("1000.00"),
                    promised_date=date(2026, 10, 15),
                    status=PromiseStatus.BROKEN,
                    created_at=made,
                ),
                Promise(
                    customer_id=ids["C"],
                    member_id=member[SAM],
                    amount=Decimal("200.00"),
                    promised_date=date(2026, 10, 25),
                    status=PromiseStatus.KEPT,
                    created_at=made,
                ),
                Promise(
                    customer_id=ids["A"],
                    member_id=member[DANA],
                    amount=Decimal("100.00"),
                    promised_date=date(2026, 11, 5),
                    status=PromiseStatus.KEPT,
                    created_at=made,
                ),
                Promise(
                    customer_id=ids["D"],
                    member_id=member[SAM],
                    amount=Decimal("50.00"),
                    promised_date=date(2026, 10, 28),
                    status=PromiseStatus.OPEN,
                    created_at=made,
                ),
                # Meaningful contacts: dana 2, sam 1 (unnamed, unanswered and November calls do not count).
                *[
                    Activity(
                        customer_id=ids[c],
                        member_id=member[who],
                        kind=ActivityKind.CALL,
                        outcome=outcome,
                        contact_name=name,
                        occurred_at=at,
                    )
                    for c, who, outcome, name, at in (
                        ("A", DANA, Outcome.REACHED, "Jane Doe", _local(5, 10)),
                        ("B", DANA, Outcome.REACHED, "Bo Birch", _local(6, 10)),
                        ("B", DANA, Outcome.REACHED, None, _local(7, 10)),
                        ("B", DANA, Outcome.NO_ANSWER, "Bo Birch", _local(8, 10)),
                        ("C", SAM, Outcome.REACHED, "Cy Cobalt", _local(30, 16)),
                        ("D", SAM, Outcome.REACHED, "Di Delta", _local(2, 10, month=11)),
                    )
                ],
                # Disputes resolved in October: billed twice 3.0 and 1.0 days, price 30.0 days.
                *[
                    Dispute(
                        customer_id=ids["A"],
                        amount=Decimal("10.00"),
                        reason=reason,
                        status=DisputeStatus.RESOLVED,
                        opened_at=opened,
                        resolved_at=resolved,
                        outcome="rejected",
                    )
                    for reason, opened, resolved in (
                        ("billed twice", _local(1, 9), _local(4, 9)),
                        ("Billed  Twice", _local(10, 9), _local(11, 9)),
                        ("price", _local(20, 12, month=9), _local(20, 12)),
                    )
                ],
                # Confirmations: 5 business hours (on target) and 11 (Wed 16:00 to Fri 11:00: 1 + 8 + 2).
                *[
                    PaymentConfirmation(
                        customer_id=ids["A"],
                        requested_by_id=member[DANA],
                        amount=Decimal("100.00"),
                        paid_on=date(2026, 10, 5),
                        status=ConfirmationStatus.CONFIRMED,
                        created_at=asked,
                        decided_at=answered,
                    )
                    for asked, answered in ((_local(5, 10), _local(5, 15)), (_local(14, 16), _local(16, 11)))
                ],
                ApprovalRequest(
                    kind=ApprovalKind.HOLD,
                    customer_id=ids["B"],
                    requested_by_id=member[DANA],
                    reason="90+",
                    status=ApprovalStatus.APPROVED,
                    created_at=_local(6, 9),
                    decided_at=_local(6, 13),
                ),
            ]
        )
