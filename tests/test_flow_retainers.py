"""Retainers, as conversations: a manager sets what a customer must hold (`retainer <customer>
<amount> [engagement]`, or a "Retainer Required" import column) and anyone looks at it; what is
held is read from the retainer invoices and confirmed payments; a hold release or a clearance is
refused while the retainer is short unless an approver overrides it with a reason; the account's
collector is asked once per shortfall to get it replenished; and the KPI report gives the
compliance rate and the days from retainer invoice to payment. Refusals write nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from commands.context import AppContext
from commands.importing import import_aging_file
from commands.kpi import Period, as_dict, kpi_report
from commands.messages import Tone
from storage.models import (
    AuditEvent,
    ClearanceRequest,
    ClearanceStatus,
    Customer,
    Hold,
    HoldStatus,
    Invoice,
    InvoiceKind,
    Payment,
    RetainerRequirement,
)
from tests.support.approvals import ALEX, DANA, MARIA, PRIYA, SAM, ask, request_of, thread_posts
from tests.support.harness import Conversation, RecordingMessenger, Sent
from tests.support.world import field, refused, row_counts, seed_world

JO = "jo.park@example.com"
REPLENISH = "Retainer to replenish"


def audit(ctx: AppContext, action: str) -> list[AuditEvent]:
    with ctx.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def add_retainer_invoice(
    ctx: AppContext,
    customer_id: int,
    number: str,
    amount: str,
    open_balance: str,
    *,
    issued: date = date(2026, 11, 2),
    closed_on: date | None = None,
) -> None:
    with ctx.sessions.begin() as session:
        session.add(
            Invoice(
                customer_id=customer_id,
                number=number,
                kind=InvoiceKind.RETAINER,
                issue_date=issued,
                due_date=issued,
                amount=Decimal(amount),
                open_balance=Decimal(open_balance),
                currency="USD",
                closed_on=closed_on,
            )
        )


def asked_to_replenish(messenger: RecordingMessenger, email: str) -> list[Sent]:
    return [s for s in messenger.directs(email) if s.reply.title.startswith(REPLENISH)]


def release_card(chat: Conversation, requester: str = DANA) -> Sent:
    """Acme Dental (C100) is on hold in the seeded world; its collector asks to release it."""
    return ask(chat, requester, "release acme dental paid in full by wire")


# --- setting and showing ----------------------------------------------------------------------


def test_a_manager_sets_a_retainer_and_anyone_sees_it(ctx: AppContext) -> None:
    ids = seed_world(ctx)
    add_retainer_invoice(ctx, ids["C200"], "RET-1", "3000.00", "1000.00")  # $2,000 of it paid
    chat = Conversation(ctx)
    [none] = chat.say(DANA, "retainer acme ortho")
    assert (none.title, none.text) == ("Retainer: Acme Ortho (C200)", "No retainer is required.")

    [set_] = chat.say(MARIA, "retainer acme ortho 5,000")
    assert set_.tone is Tone.SUCCESS and set_.title == "Retainer requirement set: Acme Ortho (C200)"
    assert (field(set_, "Required"), field(set_, "Held"), field(set_, "Short")) == (
        "$5,000.00",
        "$2,000.00",
        "$3,000.00",
    )
    assert set_.text.endswith("Its collector is asked to get it replenished.")
    assert [s.reply.title for s in asked_to_replenish(chat.messenger, DANA)] == [
        "Retainer to replenish: Acme Ortho (C200)"
    ]

    [more] = chat.say(ALEX, 'retainer C200 1000 "spring campaign"')
    assert more.title == "Retainer requirement set for 'spring campaign': Acme Ortho (C200)"
    [seen] = chat.say(DANA, "retainer C200")
    assert (field(seen, "Required"), field(seen, "Held"), field(seen, "Short")) == (
        "$6,000.00",
        "$2,000.00",
        "$4,000.00",
    )
    assert (field(seen, "Whole account"), field(seen, "spring campaign")) == ("$5,000.00", "$1,000.00")
    assert seen.text == "Short by $4,000.00: releases and clearances wait until it is paid."

    [removed] = chat.say(MARIA, 'retainer C200 0 "spring campaign"')
    assert removed.title == "Retainer requirement removed for 'spring campaign': Acme Ortho (C200)"
    assert field(removed, "Required") == "$5,000.00"
    assert [
        (e.action, e.actor, e.data["engagement"], e.data["amount"])
        for e in audit(ctx, "retainer.set") + audit(ctx, "retainer.removed")
    ] == [
        ("retainer.set", MARIA, None, {"from": None, "to": "5000.00"}),
        ("retainer.set", ALEX, "spring campaign", {"from": None, "to": "1000.00"}),
        ("retainer.removed", MARIA, "spring campaign", {"from": "1000.00", "to": None}),
    ]
    # Asked once for the shortfall, though the requirement changed twice more while it lasted.
    assert len(asked_to_replenish(chat.messenger, DANA)) == 1


def test_status_shows_the_retainer_only_where_one_is_required(ctx: AppContext) -> None:
    ids = seed_world(ctx)
    add_retainer_invoice(ctx, ids["C200"], "RET-1", "3000.00", "1000.00")
    chat = Conversation(ctx)
    [none] = chat.say(DANA, "status acme ortho")
    assert not [f for f in none.fields if f.label.startswith("Retainer")]
    chat.say(MARIA, "retainer acme ortho 5,000")
    [status] = chat.say(DANA, "status acme ortho")
    assert [(f.label, f.value) for f in status.fields if f.label.startswith("Retainer")] == [
        ("Retainer required", "$5,000.00"),
        ("Retainer held", "$2,000.00"),
        ("Retainer short", "$3,000.00"),
    ]


@pytest.mark.parametrize(
    ("who", "text", "said"),
    [
        (MARIA, "retainer C200 -500", "amounts must be positive"),
        (MARIA, "retainer C200 five thousand", "couldn't read 'five' as an amount"),
        (MARIA, "retainer C600 500usd", "is billed in EUR, not USD"),
        (MARIA, "retainer nobody 500", "no customer matches"),
        (MARIA, "retainer acme 500", "matches several customers"),
        (MARIA, "retainer C200 500 " + "x" * 101, "an engagement's name can be at most 100 characters"),
        (DANA, "retainer C200 500", "setting a retainer requirement is for a finance lead, manager, controller"),
        (PRIYA, "retainer C200 0", "setting a retainer requirement is for a finance lead, manager, controller"),
    ],
)
def test_bad_input_and_the_wrong_role_are_refused_and_write_nothing(
    ctx: AppContext, who: str, text: str, said: str
) -> None:
    seed_world(ctx)
    counts = row_counts(ctx)
    chat = Conversation(ctx)
    reply = refused(chat.say(who, text))
    assert said in reply.title + " " + reply.text, reply
    assert row_counts(ctx) == counts and chat.messenger.sent == []


# --- the import column and replenishment ------------------------------------------------------

HEADER = (
    "Customer ID,Customer Name,Collector,Type,Invoice No.,Invoice Date,Due Date,Amount,Open Balance,Retainer Required\n"
)


def _import(ctx: AppContext, tmp_path: Path, day: date, rows: str) -> None:
    path = tmp_path / f"{day}.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    import_aging_file(ctx, path, as_of=day)


def _requirements(ctx: AppContext) -> dict[str, tuple[Decimal, bool]]:
    with ctx.sessions() as session:
        return {
            erp_id: (amount, asked is not None)
            for erp_id, amount, asked in session.execute(
                select(Customer.erp_id, RetainerRequirement.amount, RetainerRequirement.replenish_asked_at)
                .join(Customer, Customer.id == RetainerRequirement.customer_id)
                .order_by(Customer.erp_id)
            )
        }


def test_an_import_column_sets_requirements_and_the_collector_is_asked_once_per_shortfall(
    ctx: AppContext, tmp_path: Path
) -> None:
    chat = Conversation(ctx)
    _import(
        ctx,
        tmp_path,
        date(2026, 11, 20),
        (
            f'B1,Birch Dental,{DANA},Retainer,RET-1,11/02/2026,11/16/2026,5000.00,5000.00,"$5,000.00"\n'
            f"B1,Birch Dental,{DANA},Invoice,INV-1,11/02/2026,12/02/2026,700.00,700.00,\n"
            f"C2,Cedar Ortho,{SAM},Invoice,INV-2,11/02/2026,12/02/2026,90.00,90.00,not an amount\n"
            f"D3,Dale Labs,{SAM},Retainer,RET-3,10/01/2026,10/15/2026,2500.00,500.00,2000\n"
        ),
    )
    chat.deliver()
    assert _requirements(ctx) == {"B1": (Decimal("5000.00"), True), "D3": (Decimal("2000.00"), False)}
    [asked] = asked_to_replenish(chat.messenger, DANA)
    assert asked.reply.title == "Retainer to replenish: Birch Dental (B1)"
    assert asked.reply.text.startswith(
        "Birch Dental holds $0.00 of the $5,000.00 retainer it must hold: ask for $5,000.00."
    )
    assert asked_to_replenish(chat.messenger, SAM) == [], "Dale Labs holds $2,000.00 of its $2,500.00 retainer invoice"
    assert [e.actor for e in audit(ctx, "retainer.set")] == ["system:import", "system:import"]

    # Partly paid on the next export: still short, already asked, nobody is asked again.
    _import(
        ctx,
        tmp_path,
        date(2026, 11, 23),
        (
            f"B1,Birch Dental,{DANA},Retainer,RET-1,11/02/2026,11/16/2026,5000.00,2000.00,5000\n"
            f"D3,Dale Labs,{SAM},Retainer,RET-3,10/01/2026,10/15/2026,2500.00,500.00,2000\n"
        ),
    )
    chat.deliver()
    assert len(asked_to_replenish(chat.messenger, DANA)) == 1
    [seen] = chat.say(DANA, "retainer B1")
    assert (field(seen, "Held"), field(seen, "Short")) == ("$3,000.00", "$2,000.00")

    # Paid off (the invoice leaves the export): met, so the ask is forgotten ...
    _import(
        ctx,
        tmp_path,
        date(2026, 11, 24),
        (
            f"B1,Birch Dental,{DANA},Invoice,INV-1,11/02/2026,12/02/2026,700.00,700.00,5000\n"
            f"D3,Dale Labs,{SAM},Retainer,RET-3,10/01/2026,10/15/2026,2500.00,500.00,2000\n"
        ),
    )
    chat.deliver()
    assert _requirements(ctx)["B1"] == (Decimal("5000.00"), False)
    # ... and a raised requirement is a new shortfall: asked again, once.
    for day in (date(2026, 11, 25), date(2026, 11, 26)):
        _import(
            ctx,
            tmp_path,
            day,
            (
                f"B1,Birch Dental,{DANA},Invoice,INV-1,11/02/2026,12/02/2026,700.00,700.00,8000\n"
                f"D3,Dale Labs,{SAM},Retainer,RET-3,10/01/2026,10/15/2026,2500.00,500.00,\n"
            ),
        )
        chat.deliver()
    again = asked_to_replenish(chat.messenger, DANA)
    assert len(again) == 2 and "holds $5,000.00 of the $8,000.00" in again[-1].reply.text
    assert _requirements(ctx) == {"B1": (Decimal("8000.00"), True), "D3": (Decimal("2000.00"), False)}
    assert len(audit(ctx, "retainer.replenishment_requested")) == 2


def test_a_confirmed_payment_counts_towards_the_retainer_before_the_erp_shows_it(ctx: AppContext) -> None:
    ids = seed_world(ctx)
    add_retainer_invoice(ctx, ids["C200"], "RET-1", "3000.00", "3000.00")
    chat = Conversation(ctx)
    chat.say(MARIA, "retainer C200 3000")
    assert len(asked_to_replenish(chat.messenger, DANA)) == 1
    chat.say(DANA, "paid acme ortho 3,000 today wire REF-9")
    chat.click(PRIYA, chat.last_post("finance"), "Confirm")
    [seen] = chat.say(DANA, "retainer C200")
    assert (field(seen, "Held"), field(seen, "Short"), seen.text) == ("$3,000.00", "$0.00", "The retainer is met.")
    with ctx.sessions() as session:
        assert session.scalar(select(RetainerRequirement.replenish_asked_at)) is None


# --- the gate on releases ---------------------------------------------------------------------


def test_a_release_is_refused_while_the_retainer_is_short_until_an_approver_overrides(ctx: AppContext) -> None:
    ids = seed_world(ctx)
    add_retainer_invoice(ctx, ids["C100"], "RET-1", "5000.00", "3000.00")
    chat = Conversation(ctx)
    chat.say(ALEX, "retainer C100 5000")
    card = release_card(chat)
    request = request_of(ctx, card)
    assert (
        'Retainer short by $3,000.00 (holds $2,000.00 of $5,000.00): approving it takes "approve override <reason>".'
    ) in card.reply.text

    [no] = chat.click(MARIA, card, "Approve")
    assert no.tone is Tone.ERROR and no.title == "Acme Dental Group's retainer is short by $3,000.00"
    assert no.text == (
        "It holds $2,000.00 of the $5,000.00 required, so the release waits until it is paid. "
        "To go ahead anyway, reply in the card's thread: approve override <reason>. "
        "Nothing was changed."
    )
    no_reason = refused(chat.reply_in_thread(MARIA, card, "approve override"))
    assert no_reason.title == "Say why you override the retainer"
    [wrong] = audit(ctx, "approval.refused")[:1]
    assert (wrong.actor, wrong.data["why"]) == (MARIA, "retainer_short")
    assert request_of(ctx, card).status.value == "pending" and chat.messenger.posts("sales") == []

    chat.reply_in_thread(MARIA, card, "approve override the CFO agreed to ship first")
    assert request_of(ctx, card).status.value == "approved"
    with ctx.sessions() as session:
        assert set(session.scalars(select(Hold.status).where(Hold.customer_id == ids["C100"]))) == {HoldStatus.RELEASED}
    [updated] = chat.messenger.updates(card.ref)
    assert "— override the CFO agreed to ship first" in updated.reply.text
    assert (
        "Retainer short by $3,000.00: overridden by Maria Lopez (the CFO agreed to ship first). Hold released;"
    ) in updated.reply.text
    assert any("overridden by Maria Lopez" in r.text for r in thread_posts(chat, card))
    [override] = audit(ctx, "retainer.overridden")
    assert (override.actor, override.entity_id, override.data["reason"], override.data["shortfall"]) == (
        MARIA,
        request.id,
        "the CFO agreed to ship first",
        "3000.00",
    )


def test_a_release_with_the_retainer_met_is_approved_as_before(ctx: AppContext) -> None:
    ids = seed_world(ctx)
    add_retainer_invoice(ctx, ids["C100"], "RET-1", "5000.00", "0.00", closed_on=date(2026, 11, 20))
    chat = Conversation(ctx)
    chat.say(ALEX, "retainer C100 5000")
    card = release_card(chat)
    [yes] = chat.click(MARIA, card, "Approve")
    assert yes.title == "Approved: hold release for Acme Dental Group (request #1)" and "Retainer" not in yes.text
    assert audit(ctx, "retainer.overridden") == []


@pytest.mark.parametrize(
    ("requester", "approver", "said"),
    [
        (MARIA, MARIA, "You asked for this hold release for Acme Dental Group yourself"),
        (DANA, SAM, "You can't decide a hold release for Acme Dental Group"),
        (DANA, PRIYA, "You can't decide a hold release for Acme Dental Group"),
    ],
)
def test_an_override_is_only_for_someone_who_may_approve_and_not_the_requester(
    ctx: AppContext, requester: str, approver: str, said: str
) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    chat.say(ALEX, "retainer C100 5000")
    card = release_card(chat, requester)
    reply = refused(chat.reply_in_thread(approver, card, "approve override they are good for it"))
    assert reply.title == said
    assert request_of(ctx, card).status.value == "pending" and audit(ctx, "retainer.overridden") == []


# --- the gate on the release a confirmed payment makes by itself -------------------------------


def _held_by_maria_with_a_short_retainer(ctx: AppContext, chat: Conversation) -> int:
    """Acme Ortho is put on hold by Maria's approval for its $800 past due; it requires an $8,000
    retainer and holds $5,000 (a closed retainer invoice)."""
    ids = seed_world(ctx)
    add_retainer_invoice(ctx, ids["C200"], "RET-1", "5000.00", "0.00", closed_on=date(2026, 11, 10))
    chat.say(MARIA, "retainer C200 8000")
    chat.say(DANA, "hold acme ortho final invoice 22 days past due")
    chat.click(MARIA, chat.last_post("approvals"), "Approve")
    with ctx.sessions() as session:
        return session.scalars(
            select(Hold.id).where(Hold.status == HoldStatus.ACTIVE, Hold.customer_id == ids["C200"])
        ).one()


def _finance_confirms(chat: Conversation, text: str) -> list[str]:
    """Dana's claim confirmed by Priya; what Dana is told in the card's thread."""
    [ack] = chat.say(DANA, text)
    assert ack.tone is Tone.SUCCESS, ack
    card = chat.last_post("finance")
    chat.click(PRIYA, card, "Confirm")
    return [s.reply.text for s in chat.messenger.posts("finance") if s.ref.where.thread == card.ref.message_id]


def _hold_status(ctx: AppContext, hold_id: int) -> HoldStatus:
    with ctx.sessions() as session:
        return session.get_one(Hold, hold_id).status


def test_a_confirmed_payment_does_not_release_a_hold_while_the_retainer_is_short(ctx: AppContext) -> None:
    chat = Conversation(ctx)
    hold_id = _held_by_maria_with_a_short_retainer(ctx, chat)
    [told] = _finance_confirms(chat, "paid acme ortho 800 today wire REF-1")
    assert _hold_status(ctx, hold_id) is HoldStatus.ACTIVE
    assert "The account stays on hold: its retainer short by $3,000.00 (holds $5,000.00 of $8,000.00)." in told
    assert "release C200 <reason>" in told and "approve override <reason>" in told
    assert "The hold is released" not in told
    [approver] = [s.reply for s in chat.messenger.directs(MARIA) if "retainer is short" in s.reply.title]
    assert approver.title == "Acme Ortho (C200) has paid what its hold was for, but its retainer is short"
    assert "short by $3,000.00" in approver.text and "approve override <reason>" in approver.text
    released = "Hold released on Acme Ortho (C200)"
    assert not [p for ch in ("sales", "client-services") for p in chat.messenger.posts(ch) if p.reply.title == released]
    [waits] = audit(ctx, "hold.release_waits_for_retainer")
    assert (waits.actor, waits.entity_id, waits.data["shortfall"], waits.data["held"]) == (
        PRIYA,
        hold_id,
        "3000.00",
        "5000.00",
    )
    assert audit(ctx, "hold.released") == []

    # The approver overrides through the ordinary release request: the same gate, with a reason.
    card = release_card_for(chat, "release acme ortho paid what the hold was for")
    chat.reply_in_thread(MARIA, card, "approve override the CFO agreed")
    assert _hold_status(ctx, hold_id) is HoldStatus.RELEASED
    assert [e.data["reason"] for e in audit(ctx, "retainer.overridden")] == ["the CFO agreed"]


def test_the_payment_that_replenishes_the_retainer_releases_the_hold(ctx: AppContext) -> None:
    chat = Conversation(ctx)
    hold_id = _held_by_maria_with_a_short_retainer(ctx, chat)
    _finance_confirms(chat, "paid acme ortho 800 today wire REF-1")
    assert _hold_status(ctx, hold_id) is HoldStatus.ACTIVE
    # The top-up is billed and paid; until the ERP shows it, the confirmed money counts towards it.
    with ctx.sessions() as session:
        customer_id = session.get_one(Hold, hold_id).customer_id
    add_retainer_invoice(ctx, customer_id, "RET-2", "3000.00", "3000.00", issued=date(2026, 11, 23))
    [told] = _finance_confirms(chat, "paid acme ortho 3,000 today wire REF-2")
    assert _hold_status(ctx, hold_id) is HoldStatus.RELEASED
    assert "The hold is released" in told
    assert len(audit(ctx, "hold.release_waits_for_retainer")) == 1 and audit(ctx, "retainer.overridden") == []


def test_a_hold_placed_by_the_collector_tells_them_once(ctx: AppContext) -> None:
    """The seeded hold on Acme Dental was placed by Dana herself: she hears it in the answer to
    her claim, and no second direct message says it again."""
    ids = seed_world(ctx)
    add_retainer_invoice(ctx, ids["C100"], "RET-1", "1000.00", "0.00", closed_on=date(2026, 11, 10))
    chat = Conversation(ctx)
    chat.say(ALEX, "retainer C100 1500")
    [told] = _finance_confirms(chat, "paid c100 2,750 today")
    assert "its retainer short by $500.00 (holds $1,000.00 of $1,500.00)" in told
    with ctx.sessions() as session:
        assert session.scalars(select(Hold.status).where(Hold.customer_id == ids["C100"])).one() is HoldStatus.ACTIVE
    assert not [s for s in chat.messenger.directs(DANA) if "retainer is short" in s.reply.title]


def release_card_for(chat: Conversation, text: str) -> Sent:
    return ask(chat, DANA, text)


# --- the gate on clearances -------------------------------------------------------------------


def test_a_short_retainer_keeps_a_clearance_waiting_and_a_manager_overrides_it(ctx: AppContext) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    chat.say(ALEX, "retainer paid up 1000")
    [answer] = chat.say(JO, "clear paid up for the product release")
    assert "Not cleared at once: the account has a short retainer." in answer.text
    card = chat.last_post("collections")  # Paid Up has no collector: the managers decide
    assert "Not cleared at once: retainer short by $1,000.00 (holds $0.00 of $1,000.00)." in card.reply.text

    [no] = chat.click(MARIA, card, "Clear")
    assert no.tone is Tone.ERROR and no.title == "Paid Up LLC's retainer is short by $1,000.00"
    assert "clear override <reason>" in no.text
    chat.reply_in_thread(MARIA, card, "clear override deposit cheque is in the post")
    with ctx.sessions() as session:
        clearance = session.scalars(select(ClearanceRequest)).one()
    assert (clearance.status, clearance.decision_reason) == (
        ClearanceStatus.CLEARED,
        "override deposit cheque is in the post",
    )
    [told] = [s.reply for s in chat.messenger.directs(JO)]
    assert told.title.startswith("Cleared: Paid Up LLC (C700) for the product release")
    assert "Retainer short by $1,000.00: overridden by Maria Lopez (deposit cheque is in the post)." in told.text
    [override] = audit(ctx, "retainer.overridden")
    assert (override.entity_type, override.entity_id) == ("clearance_request", clearance.id)


def test_the_collector_may_not_override_a_short_retainer(ctx: AppContext) -> None:
    ids = seed_world(ctx)
    add_retainer_invoice(ctx, ids["C200"], "RET-1", "800.00", "800.00")
    chat = Conversation(ctx)
    chat.say(MARIA, "retainer C200 800")
    chat.say(JO, "clear acme ortho for scheduling")
    [card] = [s for s in chat.messenger.directs(DANA) if s.reply.buttons]
    reply = refused(chat.reply_in_thread(DANA, card, "clear override they always pay"))
    assert reply.title == "Only a manager overrides a short retainer"
    [why] = [e for e in audit(ctx, "clearance.decision_refused")]
    assert (why.actor, why.data["why"]) == (DANA, "retainer short")
    with ctx.sessions() as session:
        assert session.scalars(select(ClearanceRequest.status)).one() is ClearanceStatus.PENDING


def test_a_met_retainer_lets_a_clear_account_clear_at_once(ctx: AppContext) -> None:
    ids = seed_world(ctx)
    add_retainer_invoice(ctx, ids["C700"], "RET-9", "1000.00", "0.00", closed_on=date(2026, 11, 10))
    chat = Conversation(ctx)
    chat.say(ALEX, "retainer paid up 1000")
    [answer] = chat.say(JO, "clear paid up for scheduling")
    assert answer.title.startswith("Cleared: Paid Up LLC (C700) for scheduling")


# --- KPIs -------------------------------------------------------------------------------------


def test_retainer_compliance_and_days_to_pay_in_the_kpi_report(ctx: AppContext) -> None:
    """November: Acme Dental requires $1,000 and its $1,000 retainer (invoiced 2 Nov) was confirmed
    paid on 9 Nov (7 days) and left the export on 12 Nov; Acme Ortho requires $2,000 and has paid
    $1,500 of its retainer; Summit requires $500, invoiced 20 Oct, shown paid by the import of
    20 Nov (31 days). Route 66's retainer was paid in October (not this period) and it has no
    requirement; 100% Smiles' requirement came after the period. Compliance 2 of 3 = 66.67%;
    days to pay (7 + 31) / 2 = 19."""
    ids = seed_world(ctx)
    add_retainer_invoice(
        ctx, ids["C100"], "RET-A", "1000.00", "0.00", issued=date(2026, 11, 2), closed_on=date(2026, 11, 12)
    )
    add_retainer_invoice(ctx, ids["C200"], "RET-B", "2000.00", "500.00", issued=date(2026, 11, 5))
    add_retainer_invoice(
        ctx, ids["C300"], "RET-C", "500.00", "0.00", issued=date(2026, 10, 20), closed_on=date(2026, 11, 20)
    )
    add_retainer_invoice(
        ctx, ids["C400"], "RET-D", "400.00", "0.00", issued=date(2026, 9, 1), closed_on=date(2026, 10, 15)
    )
    nov = datetime(2026, 11, 1, 15, tzinfo=UTC)
    with ctx.sessions.begin() as session:
        session.add(
            Payment(
                customer_id=ids["C100"],
                amount=Decimal("1000.00"),
                received_on=date(2026, 11, 9),
                source="finance",
                created_at=nov,
            )
        )
        for erp_id, amount, at in (
            ("C100", "1000.00", nov),
            ("C200", "2000.00", nov),
            ("C300", "500.00", nov),
            ("C500", "50.00", datetime(2026, 12, 5, 15, tzinfo=UTC)),
        ):
            session.add(
                RetainerRequirement(
                    customer_id=ids[erp_id], engagement="", amount=Decimal(amount), set_by=ALEX, set_at=at
                )
            )
    november = Period(date(2026, 11, 1), date(2026, 11, 30))
    with ctx.sessions() as session:
        figures = as_dict(kpi_report(ctx, session, november))
        october = as_dict(kpi_report(ctx, session, Period(date(2026, 10, 1), date(2026, 10, 31))))
    assert (figures["retainer_compliance_rate"], figures["retainer_days_to_pay"]) == ("66.67", "19.00")
    assert (figures["retainers_required"], figures["retainers_met"], figures["retainers_paid"]) == (3, 2, 2)
    # October: no requirement was set yet; Route 66's retainer, invoiced 1 Sep, paid 15 Oct: 44 days.
    assert (october["retainer_compliance_rate"], october["retainer_days_to_pay"]) == (None, "44.00")

    chat = Conversation(ctx)
    [card] = chat.say(MARIA, "report 2026-11-01 2026-11-30")
    assert (field(card, "Retainers met %"), field(card, "Retainer days to pay")) == ("66.67", "19.00")
    [explained] = chat.say(MARIA, "report explain retainer 2026-11-01 2026-11-30")
    assert explained.text.splitlines() == [
        "customers with a retainer requirement on 2026-11-30: 3, meeting it: 2",
        "2 / 3 × 100 = 66.67",
    ]
    [days] = chat.say(MARIA, "report explain retainer_days_to_pay 2026-11-01 2026-11-30")
    assert days.text.splitlines() == [
        "retainer invoices paid 2026-11-01 to 2026-11-30: 2",
        "average 19.00 days, longest 31.00",
    ]
