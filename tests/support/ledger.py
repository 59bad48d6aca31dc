"""A small-ledger builder for the call-list tests, and the open-item facts worked out item by item
in Python that the set-based features are checked against."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.calllist import build_call_list
from commands.context import AppContext
from storage.models import (
    Activity,
    ActivityKind,
    Customer,
    Dispute,
    DisputeStatus,
    Invoice,
    InvoiceKind,
    Outcome,
    PaymentPlan,
    PlanInstalment,
    PlanStatus,
    Promise,
    PromiseStatus,
    TeamMember,
)

MONDAY = date(2026, 11, 23)


DANA, SAM, LEE = "dana.reyes@example.com", "sam.okafor@example.com", "lee.marsh@example.com"


CREATED = datetime(2026, 1, 5, tzinfo=UTC)


class Ledger:
    """Builds customers and their items relative to the list day, in one open session."""

    def __init__(self, session: Session, day: date = MONDAY) -> None:
        self.session, self.day = session, day
        self.members = dict(session.execute(select(TeamMember.email, TeamMember.id)).all())
        self._numbers = 0

    def customer(self, erp_id: str, name: str | None = None, collector: str | None = DANA) -> Customer:
        customer = Customer(
            erp_id=erp_id,
            name=name or f"Customer {erp_id}",
            created_at=CREATED,
            collector_id=self.members[collector] if collector else None,
        )
        self.session.add(customer)
        self.session.flush()
        return customer

    def invoice(
        self,
        customer: Customer,
        amount: str,
        dpd: int,
        kind: InvoiceKind = InvoiceKind.STANDARD,
        open_balance: str | None = None,
    ) -> Invoice:
        """An open item ``dpd`` days past due on the list day (negative: not yet due)."""
        self._numbers += 1
        item = Invoice(
            customer_id=customer.id,
            number=f"INV-{self._numbers}",
            kind=kind,
            due_date=self.day - timedelta(days=dpd),
            amount=Decimal(amount),
            open_balance=Decimal(open_balance if open_balance is not None else amount),
        )
        self.session.add(item)
        self.session.flush()
        return item

    def paid_invoice(self, customer: Customer, amount: str, due_days_ago: int, days_late: int) -> Invoice:
        item = self.invoice(customer, amount, due_days_ago, open_balance="0")
        item.closed_on = item.due_date + timedelta(days=days_late)
        self.session.flush()
        return item

    def promise(
        self, customer: Customer, promised: date, status: PromiseStatus = PromiseStatus.OPEN, amount: str = "1000"
    ) -> Promise:
        promise = Promise(
            customer_id=customer.id, amount=Decimal(amount), promised_date=promised, status=status, created_at=CREATED
        )
        self.session.add(promise)
        self.session.flush()
        return promise

    def dispute(
        self,
        customer: Customer,
        amount: str,
        invoice: Invoice | None = None,
        status: DisputeStatus = DisputeStatus.OPEN,
    ) -> Dispute:
        dispute = Dispute(
            customer_id=customer.id,
            invoice_id=invoice.id if invoice else None,
            amount=Decimal(amount),
            reason="billing error",
            status=status,
            opened_at=CREATED,
        )
        self.session.add(dispute)
        self.session.flush()
        return dispute

    def activity(self, customer: Customer, kind: ActivityKind, outcome: Outcome, at: datetime) -> Activity:
        activity = Activity(customer_id=customer.id, kind=kind, outcome=outcome, occurred_at=at)
        self.session.add(activity)
        self.session.flush()
        return activity

    def plan(self, customer: Customer, *, missed: bool) -> PaymentPlan:
        plan = PaymentPlan(
            customer_id=customer.id,
            total=Decimal("3000"),
            cadence="monthly",
            status=PlanStatus.ACTIVE,
            created_at=CREATED,
        )
        self.session.add(plan)
        self.session.flush()
        for month, status in enumerate(["paid", "missed" if missed else "paid", "due"]):
            self.session.add(
                PlanInstalment(
                    plan_id=plan.id, due_date=date(2026, 9 + month, 1), amount=Decimal("1000"), status=status
                )
            )
        self.session.flush()
        return plan


def call_list(ctx: AppContext, **kwargs) -> list:
    kwargs.setdefault("day", MONDAY)
    with ctx.sessions() as session:
        return build_call_list(session, ctx, **kwargs)


def facts_item_by_item(items: list[list], day: date) -> dict[int, dict[str, int]]:
    """Per customer, the open-item facts worked out one item at a time: items are
    [customer id, due date, kind, cents, disputed cents]."""
    out: dict[int, dict[str, int]] = {}
    for customer_id, due, kind, cents, disputed in items:
        facts = out.setdefault(
            customer_id,
            dict.fromkeys(
                [
                    "balance",
                    "past_due",
                    "window",
                    "finals",
                    "mrr_months",
                    "crossing",
                    "amount_final_invoice",
                    "amount_unpaid_mrr",
                    "amount_over_30_days",
                    "amount_crossing_soon",
                ],
                0,
            )
            | {"oldest_dpd": None},
        )
        dpd = (day - due).days
        facts["balance"] += cents  # the ledger's balance; collectible() takes disputes off it
        cents -= disputed
        if cents <= 0:
            continue
        facts["oldest_dpd"] = max(dpd, facts["oldest_dpd"] if facts["oldest_dpd"] is not None else dpd)
        # Monday + 3 business days is Friday 27 Nov (Thanksgiving skipped): 4 days ahead.
        crossing = any(dpd <= n < dpd + 4 for n in (30, 60, 90))
        final = kind == InvoiceKind.FINAL and 1 <= dpd <= 30
        mrr = kind == InvoiceKind.RECURRING and dpd >= 1
        facts["crossing"] += crossing
        facts["past_due"] += cents if dpd >= 1 else 0
        facts["window"] += 5 <= dpd <= 15
        facts["finals"] += final
        facts["mrr_months"] += mrr
        facts["amount_final_invoice"] += cents if final else 0
        facts["amount_unpaid_mrr"] += cents if mrr else 0
        facts["amount_over_30_days"] += cents if dpd > 30 else 0
        facts["amount_crossing_soon"] += cents if crossing else 0
    return out
