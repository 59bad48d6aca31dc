"""Disputes through the chat: a collector opens one, the collections channel is told, the amount
leaves the call list, and the opener or a manager resolves it once, with its cycle time recorded.

The seeded world (tests.support.world) already holds dispute #1, on Acme Dental without an
invoice; the disputes opened here are #2 onwards."""

from __future__ import annotations

import io
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from bot.terminal import TerminalMessenger, converse, terminal_user
from commands.calllist import build_call_list
from commands.calllist.cutoffs import cutoffs_for
from commands.calllist.features import load_features
from commands.calllist.policy import load_policy
from commands.calllist.ranking import collectible
from commands.clock import FixedClock
from commands.context import AppContext
from commands.disputes import OUTCOMES
from commands.handlers import resolve_cmd
from commands.handlers.registry import Actor
from commands.importing import import_aging_file
from commands.messages import ChatUser, Incoming, Reply, Tone, Where
from commands.reports import CycleTimes, dispute_cycle_times
from commands.router import handle
from commands.team import sync_members, team_from_dict
from storage.db import make_engine, make_session_factory
from storage.models import AuditEvent, Dispute, DisputeStatus, Invoice, TeamMember
from tests.support.disputes import acme_export, acme_on_the_list
from tests.support.harness import Conversation, Sent
from tests.support.world import DANA, PRIYA, refused, row_counts, seed_world

SAM, MARIA = "sam.okafor@example.com", "maria.lopez@example.com"
MONDAY_9AM = datetime(2026, 11, 23, 15, tzinfo=UTC)
OPEN_INV_1 = "dispute acme dental INV-1 450 billed twice for the October cleaning"


def dispute(ctx: AppContext, dispute_id: int) -> Dispute:
    with ctx.sessions() as session:
        return session.get_one(Dispute, dispute_id)


def audit(ctx: AppContext, action: str) -> list[AuditEvent]:
    with ctx.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def opened(ctx: AppContext, text: str = OPEN_INV_1, *, who: str = DANA) -> tuple[Conversation, Sent]:
    """``who`` opens a dispute; the conversation and the note it posted in the collections channel."""
    chat = Conversation(ctx)
    [reply] = chat.say(who, text)
    assert reply.tone is Tone.SUCCESS, reply
    return chat, chat.last_post("collections")


# --- opening ----------------------------------------------------------------------------------


def test_a_collector_opens_a_dispute_and_the_collections_channel_is_told(ctx: AppContext) -> None:
    ids = seed_world(ctx)
    chat = Conversation(ctx)
    [reply] = chat.say(DANA, OPEN_INV_1)
    assert reply.title == "Dispute #2 opened for Acme Dental Group (C100)"
    assert reply.text == (
        "$450.00 is set aside from collection until the dispute is resolved. Resolve with "
        "`resolve 2 <outcome> [note]` (upheld, rejected, credited, withdrawn)."
    )
    assert [(f.label, f.value) for f in reply.fields] == [
        ("Invoice", "INV-1"),
        ("Disputed", "$450.00"),
        ("Invoice open", "$1,000.00"),
        ("Reason", "billed twice for the October cleaning"),
    ]
    note = chat.last_post("collections")
    assert note.reply.title == "Dispute #2: Acme Dental Group (C100) disputes $450.00 of INV-1"
    assert note.reply.text.startswith("Opened by Dana Reyes: billed twice for the October cleaning\n")
    row = dispute(ctx, 2)
    assert (row.customer_id, row.amount, row.status, row.reason, row.opened_at) == (
        ids["C100"],
        Decimal("450.00"),
        DisputeStatus.OPEN,
        "billed twice for the October cleaning",
        MONDAY_9AM,
    )
    [event] = audit(ctx, "dispute.opened")
    assert (event.actor, event.entity_id, event.customer_id) == (DANA, 2, ids["C100"])
    assert event.data == {"invoice": "INV-1", "amount": "450.00", "reason": "billed twice for the October cleaning"}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            "dispute acme dental INV-9 450 wrong rate",
            "'INV-9' is not an invoice of theirs: only an open invoice of Acme Dental Group (C100) can be disputed; "
            "their open invoices are INV-3, INV-4, INV-1, INV-2",
        ),
        ("dispute acme dental A-1 100 wrong rate", "'A-1' is not an invoice of theirs"),  # Acme Ortho's
        ("dispute acme dental CM-1 100 wrong rate", "'CM-1' has nothing owed on it"),
        (
            "dispute acme dental INV-1 1,000.01 wrong rate",
            "at most $1,000.00 of INV-1 can be disputed: it has $1,000.00 open",
        ),
        ("dispute acme dental INV-1 0 wrong rate", "amounts must be more than zero"),
        ("dispute acme dental INV-1 -450 wrong rate", "amounts must be positive"),
        ("dispute acme dental INV-1 450", "say why the customer disputes it"),
        ("dispute acme INV-1 450 wrong rate", "'acme' matches several customers"),
        ("dispute zenith Z-1 100USD wrong rate", "Zenith Labs (C600) is billed in EUR, not USD"),
        ("dispute acme dental", "I need a customer, then an invoice number, an amount and the reason"),
    ],
)
def test_a_dispute_that_cannot_be_opened_is_refused_and_writes_nothing(ctx: AppContext, text: str, says: str) -> None:
    seed_world(ctx)
    before = row_counts(ctx)
    reply = refused(Conversation(ctx).say(DANA, text))
    assert reply.title.startswith(says), reply.title
    assert "Nothing was saved." in reply.text
    assert row_counts(ctx) == before


def test_a_closed_invoice_cannot_be_disputed(ctx: AppContext) -> None:
    seed_world(ctx)
    with ctx.sessions.begin() as session:
        session.scalars(select(Invoice).where(Invoice.number == "INV-2")).one().closed_on = date(2026, 11, 20)
    reply = refused(Conversation(ctx).say(DANA, "dispute acme dental inv-2 100 wrong rate"))
    assert reply.title.startswith("'inv-2' was closed on Fri 20 Nov 2026")


def test_what_is_already_disputed_on_an_invoice_cannot_be_disputed_again(ctx: AppContext) -> None:
    seed_world(ctx)
    opened(ctx, "dispute acme dental INV-1 600 wrong rate")
    before = row_counts(ctx)
    reply = refused(Conversation(ctx).say(SAM, "dispute c100 INV-1 401 also the tax"))
    assert reply.title == (
        "at most $400.00 of INV-1 can be disputed: it has $1,000.00 open and $600.00 already in dispute"
    )
    assert row_counts(ctx) == before
    opened(ctx, "dispute c100 INV-1 400 also the tax", who=SAM)


def test_someone_with_no_collections_role_is_refused_on_the_record(ctx: AppContext) -> None:
    raw = dict(ctx.team.raw)
    raw["members"] = [*raw["members"], {"email": "it.ops@example.com", "name": "IT Ops", "roles": ["admin"]}]
    team = team_from_dict(raw)
    with ctx.sessions.begin() as session:
        sync_members(session, team)
    ops_ctx = AppContext(sessions=ctx.sessions, team=team, calendar=ctx.calendar, clock=ctx.clock)
    ids = seed_world(ops_ctx)
    reply = refused(Conversation(ops_ctx).say("it.ops@example.com", OPEN_INV_1))
    assert reply.title.startswith("disputes are opened by collectors, finance or managers")
    with ctx.sessions() as session:
        assert session.scalars(select(Dispute.id)).all() == [1]
    [event] = audit(ctx, "dispute.refused")
    assert (event.actor, event.customer_id, event.data["invoice"]) == ("it.ops@example.com", ids["C100"], "INV-1")


# --- the call list sets it aside ----------------------------------------------------------------


def test_the_disputed_amount_leaves_the_list_until_the_dispute_is_rejected(ctx: AppContext) -> None:
    ids = seed_world(ctx)
    day = date(2026, 11, 23)

    def acme() -> tuple[int, tuple[str, ...]]:
        """Acme Dental's collectible cents as the list ranks it, and its reasons on Dana's list."""
        with ctx.sessions() as session:
            cut = cutoffs_for(day, load_policy(), ctx.calendar, ctx.team.timezone)
            frame = collectible(load_features(session, cut, collector_id=None))
            rows = build_call_list(session, ctx, day=day, collector_email=DANA)
        return int(frame.loc[ids["C100"], "collectible"]), next(r.reasons for r in rows if r.erp_id == "C100")

    before, reasons_before = acme()
    chat, _ = opened(ctx)
    during, reasons_during = acme()
    assert before - during == 45000
    assert reasons_before[-1] == "$100 in dispute, set aside"  # dispute #1
    assert reasons_during[-1] == "$550 in dispute, set aside"
    assert reasons_during[1] == "$2,650 past due" and reasons_before[1] == "$3,100 past due"
    [reply] = chat.say(DANA, "resolve 2 rejected customer found our delivery note")
    assert reply.tone is Tone.SUCCESS
    assert acme() == (before, reasons_before)


@pytest.mark.parametrize("outcome", ["upheld", "credited"])
def test_a_dispute_settled_for_the_customer_stays_out_of_collection_until_an_import_shows_the_credit_memo(
    ctx: AppContext, clock: FixedClock, tmp_path: Path, outcome: str
) -> None:
    """The customer was right, but the credit memo is not in the ledger yet: exports without it
    keep the money out of collection; the one that brings the credit memo takes over, and the
    money is off the balance once, through the memo."""
    ids = seed_world(ctx)
    before, _ = acme_on_the_list(ctx, ids)
    chat, _ = opened(ctx)
    clock.advance(hours=2)
    [reply] = chat.say(DANA, f"resolve 2 {outcome} credit memo to follow")
    assert reply.tone is Tone.SUCCESS, reply
    collectible_now, reasons = acme_on_the_list(ctx, ids)
    assert collectible_now == before - 45000
    assert "$450 to be credited (dispute settled), set aside until the ERP shows the credit" in reasons
    assert "$100 in dispute, set aside" in reasons  # dispute #1 is still open

    for evening in range(2):  # two evening exports still list INV-1 in full, with no credit memo
        clock.advance(hours=8 + 24 * evening)
        import_aging_file(ctx, acme_export(tmp_path, f"day{evening}.csv"), as_of=date(2026, 11, 23 + evening))
        assert acme_on_the_list(ctx, ids)[0] == before - 45000

    clock.advance(hours=24)
    import_aging_file(
        ctx,
        acme_export(tmp_path, "memo.csv", extra="C100,Acme Dental Group,CM-7,Credit Memo,2026-11-25,-450.00\n"),
        as_of=date(2026, 11, 25),
    )
    collectible_now, reasons = acme_on_the_list(ctx, ids)
    assert collectible_now == before - 45000  # the memo's $450, not the memo and the dispute
    assert not any("to be credited" in reason for reason in reasons)


def test_an_upheld_dispute_ends_when_the_erp_reduces_the_invoice_by_it(
    ctx: AppContext, clock: FixedClock, tmp_path: Path
) -> None:
    ids = seed_world(ctx)
    before, _ = acme_on_the_list(ctx, ids)
    chat, _ = opened(ctx)
    [reply] = chat.say(DANA, "resolve 2 upheld")
    assert reply.tone is Tone.SUCCESS, reply
    clock.advance(hours=8)
    import_aging_file(ctx, acme_export(tmp_path, "part.csv", inv1="700.00"), as_of=date(2026, 11, 23))
    assert acme_on_the_list(ctx, ids)[0] == before - 30000 - 45000  # $300 of the $450 shown: still waiting
    clock.advance(hours=24)
    import_aging_file(ctx, acme_export(tmp_path, "whole.csv", inv1="550.00"), as_of=date(2026, 11, 24))
    collectible_now, reasons = acme_on_the_list(ctx, ids)
    assert collectible_now == before - 45000
    assert not any("to be credited" in reason for reason in reasons)


@pytest.mark.parametrize("outcome", ["rejected", "withdrawn"])
def test_a_dispute_settled_as_owed_is_back_in_collection_at_once(ctx: AppContext, outcome: str) -> None:
    ids = seed_world(ctx)
    before = acme_on_the_list(ctx, ids)
    chat, _ = opened(ctx)
    assert acme_on_the_list(ctx, ids)[0] == before[0] - 45000
    [reply] = chat.say(DANA, f"resolve 2 {outcome}")
    assert "goes back to collection" in reply.text
    assert acme_on_the_list(ctx, ids) == before


# --- resolving ----------------------------------------------------------------------------------


def test_the_opener_resolves_it_and_the_cycle_time_is_recorded(ctx: AppContext, clock: FixedClock) -> None:
    seed_world(ctx)
    chat, note = opened(ctx)
    clock.advance(days=12, hours=3)
    [reply] = chat.say(DANA, "resolve 2 rejected customer found our delivery note")
    assert reply.title == "Dispute #2 resolved: rejected"
    assert reply.text == (
        "Acme Dental Group (C100), $450.00 of INV-1: the amount is owed and goes back to "
        "collection. Resolved after 12.1 days.\nNote: customer found our delivery note"
    )
    assert [(f.label, f.value) for f in reply.fields] == [
        ("Outcome", "rejected"),
        ("Cycle time", "12.1 days"),
        ("Resolved by", "Dana Reyes"),
    ]
    [update] = chat.messenger.updates(note.ref)
    assert update.reply.title == "Dispute #2 resolved: rejected (Acme Dental Group (C100))"
    assert chat.messenger.directs(DANA) == [] and chat.messenger.posts("finance") == []
    row = dispute(ctx, 2)
    assert (row.status, row.outcome, row.resolved_at) == (
        DisputeStatus.RESOLVED,
        "rejected: customer found our delivery note",
        MONDAY_9AM + timedelta(days=12, hours=3),
    )
    [event] = audit(ctx, "dispute.resolved")
    assert (event.actor, event.entity_id) == (DANA, 2)
    assert event.data == {
        "outcome": "rejected",
        "note": "customer found our delivery note",
        "amount": "450.00",
        "cycle_days": "12.1",
        "summary": "resolved after 12.1 days",
    }


def test_a_manager_resolves_someone_elses_dispute_and_the_opener_and_finance_are_told(
    ctx: AppContext, clock: FixedClock
) -> None:
    seed_world(ctx)
    chat, _ = opened(ctx)
    clock.advance(days=12)
    [reply] = chat.say(MARIA, "resolve #2 upheld our rate card was wrong")
    assert reply.title == "Dispute #2 resolved: upheld"
    assert "the customer was right; a credit is due. Resolved after 12 days." in reply.text
    assert reply.text.endswith(
        "The amount stays out of collection until an aging import shows the credit "
        "(a credit memo for it, or INV-1 reduced by it)."
    )
    [dana] = chat.messenger.directs(DANA)
    assert dana.reply.title == "Dispute #2 resolved: upheld" and ("Resolved by", "Maria Lopez") in [
        (f.label, f.value) for f in dana.reply.fields
    ]
    [finance] = chat.messenger.posts("finance")
    assert finance.reply.title == "Credit due: Acme Dental Group (C100), $450.00 of INV-1"
    assert finance.reply.text == "Dispute #2 was upheld by Maria Lopez; please issue the credit memo."
    assert audit(ctx, "dispute.resolved")[0].data["cycle_days"] == "12.0"


def test_a_reply_in_the_disputes_thread_resolves_it_without_its_number(ctx: AppContext) -> None:
    seed_world(ctx)
    chat, note = opened(ctx)
    [reply] = chat.reply_in_thread(DANA, note, "resolve withdrawn customer paid in full after all")
    assert reply.title == "Dispute #2 resolved: withdrawn"
    assert dispute(ctx, 2).outcome == "withdrawn: customer paid in full after all"


@pytest.mark.parametrize(
    ("who", "says"),
    [
        (SAM, "only Dana Reyes, who opened it, or a manager, controller or VP finance can resolve dispute #2"),
        (PRIYA, "only Dana Reyes, who opened it, or a manager, controller or VP finance can resolve dispute #2"),
    ],
)
def test_only_the_opener_or_a_manager_may_resolve_and_a_refusal_is_on_the_record(
    ctx: AppContext, who: str, says: str
) -> None:
    seed_world(ctx)
    chat, _ = opened(ctx)
    before = row_counts(ctx)
    reply = refused(chat.say(who, "resolve 2 rejected"))
    assert (reply.title, reply.text) == (says, "Nothing was changed.")
    assert dispute(ctx, 2).status is DisputeStatus.OPEN
    [event] = audit(ctx, "dispute.resolve_refused")
    assert (event.actor, event.entity_id, event.data["outcome"], event.data["refused"]) == (who, 2, "rejected", says)
    assert row_counts(ctx) == {**before, "audit_events": before["audit_events"] + 1}


def test_resolving_twice_is_refused_and_says_who_resolved_it(ctx: AppContext, clock: FixedClock) -> None:
    seed_world(ctx)
    chat, _ = opened(ctx)
    clock.advance(minutes=14)
    chat.say(DANA, "resolve 2 rejected customer found our delivery note")
    clock.advance(minutes=5)
    reply = refused(chat.say(MARIA, "resolve 2 upheld"))
    assert reply.title == (
        "dispute #2 was already resolved (rejected: customer found our delivery note) "
        "by Dana Reyes at Mon 23 Nov 2026 9:14 AM CST"
    )
    assert dispute(ctx, 2).outcome == "rejected: customer found our delivery note"
    assert len(audit(ctx, "dispute.resolved")) == 1
    [event] = audit(ctx, "dispute.resolve_refused")
    assert (event.actor, event.entity_id) == (MARIA, 2)
    assert chat.messenger.posts("finance") == []


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("resolve 99 rejected", "there is no dispute #99"),
        ("resolve 2 maybe later", "'maybe' is not an outcome; say one of: upheld, rejected, credited, withdrawn"),
        ("resolve 2", "how was it resolved? Say one of: upheld, rejected, credited, withdrawn"),
        ("resolve rejected", "which dispute? Give its number"),
        ("resolve 99999999999 rejected", "which dispute? Give its number"),
    ],
)
def test_a_resolve_that_cannot_be_read_is_refused_and_writes_nothing(ctx: AppContext, text: str, says: str) -> None:
    seed_world(ctx)
    chat, _ = opened(ctx)
    before = row_counts(ctx)
    reply = refused(chat.say(DANA, text))
    assert reply.title.startswith(says), reply.title
    assert row_counts(ctx) == before
    assert dispute(ctx, 2).status is DisputeStatus.OPEN


def test_two_resolutions_at_the_same_moment_make_one_decision(ctx: AppContext, engine: Engine) -> None:
    """Dana and Maria resolve dispute #2 at once, through two engines on one database."""
    seed_world(ctx)
    opened(ctx)
    other_engine = make_engine(engine.url.render_as_string(hide_password=False))
    other = AppContext(
        sessions=make_session_factory(other_engine), team=ctx.team, calendar=ctx.calendar, clock=ctx.clock
    )
    barrier = threading.Barrier(2)
    answers: dict[str, list[Reply]] = {}

    def resolve(context: AppContext, email: str, outcome: str) -> None:
        user = ChatUser(platform="test", user_id=email, email=email)
        barrier.wait()
        answers[email] = handle(context, Incoming(user=user, where=Where("dm"), text=f"resolve 2 {outcome}"))

    threads = [
        threading.Thread(target=resolve, args=(ctx, DANA, "rejected")),
        threading.Thread(target=resolve, args=(other, MARIA, "upheld")),
    ]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        other_engine.dispose()
    titles = sorted(replies[0].title for replies in answers.values())
    assert len(titles) == 2
    winner = dispute(ctx, 2).outcome
    by = "Dana Reyes" if winner == "rejected" else "Maria Lopez"
    assert titles == sorted(
        [
            f"Dispute #2 resolved: {winner}",
            f"dispute #2 was already resolved ({winner}) by {by} at Mon 23 Nov 2026 9:00 AM CST",
        ]
    )
    assert len(audit(ctx, "dispute.resolved")) == 1 and len(audit(ctx, "dispute.resolve_refused")) == 1


def test_a_resolution_that_loses_the_race_after_reading_the_dispute_open_changes_nothing(
    ctx: AppContext, clock: FixedClock
) -> None:
    """Maria's message read dispute #2 while it was open; Dana's resolution commits before
    Maria's update runs. Her conditional update finds nothing to change, and she is told who won."""
    seed_world(ctx)
    chat, _ = opened(ctx)
    maria = Actor(ctx.team.member(MARIA), member_id=_member_id(ctx, MARIA))
    with ctx.sessions() as session:
        stale = session.get_one(Dispute, 2)
        session.commit()  # ends the read; the loaded row keeps saying "open"
        clock.advance(minutes=3)
        chat.say(DANA, "resolve 2 rejected")
        assert stale.status is DisputeStatus.OPEN
        replies = resolve_cmd.handle(
            resolve_cmd.ResolveRequest(stale, OUTCOMES["upheld"], None), maria, ctx, session=session
        )
        session.commit()
    reply = refused(replies)
    assert reply.title == "dispute #2 was already resolved (rejected) by Dana Reyes at Mon 23 Nov 2026 9:03 AM CST"
    assert dispute(ctx, 2).outcome == "rejected"
    assert [e.actor for e in audit(ctx, "dispute.resolved")] == [DANA]
    assert [e.actor for e in audit(ctx, "dispute.resolve_refused")] == [MARIA]


def _member_id(ctx: AppContext, email: str) -> int:
    with ctx.sessions() as session:
        return session.scalars(select(TeamMember.id).where(TeamMember.email == email)).one()


TERMINAL_SCRIPT = """\
dispute acme dental INV-1 450 billed twice for the October cleaning
as sam.okafor@example.com
in m1: resolve rejected
as maria.lopez@example.com
in m1: resolve upheld our rate card was wrong
in m1: resolve rejected
"""


def test_the_whole_dispute_flow_through_the_terminal_chat(ctx: AppContext) -> None:
    """Dana opens it, Sam may not resolve it, Maria resolves it in the note's thread (Dana and
    finance are told), and a second resolution is refused."""
    seed_world(ctx)
    out = io.StringIO()
    ids = iter(f"m{n}" for n in range(1, 100))
    converse(
        ctx,
        terminal_user(DANA, "Dana Reyes"),
        io.StringIO(TERMINAL_SCRIPT),
        out,
        prompt=False,
        messenger=TerminalMessenger(out, new_id=lambda: next(ids)),
    )
    text = out.getvalue()
    expected_in_order = [
        "[posted to #collections as m1]\n(to #collections)\n"
        "Dispute #2: Acme Dental Group (C100) disputes $450.00 of INV-1",
        "Dispute #2 opened for Acme Dental Group (C100)",
        "Error: only Dana Reyes, who opened it, or a manager, controller or VP finance can resolve dispute #2",
        "[update of m1 in #collections]\nDispute #2 resolved: upheld (Acme Dental Group (C100))",
        "[direct message to dana.reyes@example.com as m2]\nDispute #2 resolved: upheld",
        "[posted to #finance as m3]\n(to #finance)\nWarning: Credit due: Acme Dental Group (C100), $450.00 of INV-1",
        "\n\nDispute #2 resolved: upheld\n",  # Maria's own answer
        "Error: dispute #2 was already resolved (upheld: our rate card was wrong) by Maria Lopez",
    ]
    position = 0
    for part in expected_in_order:  # each one after the one before
        found = text.find(part, position)
        assert found >= 0, f"{part!r} not found after position {position} in:\n{text}"
        position = found + len(part)
    assert dispute(ctx, 2).outcome == "upheld: our rate card was wrong"


# --- cycle-time report ------------------------------------------------------------------------------


def test_cycle_times_cover_disputes_resolved_since_a_moment(ctx: AppContext, clock: FixedClock) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    for number in ("INV-1", "INV-2", "INV-3"):
        chat.say(DANA, f"dispute acme dental {number} 100 wrong rate")
    with ctx.sessions() as session:
        nothing = dispute_cycle_times(session, MONDAY_9AM)
    assert nothing == CycleTimes(resolved=0, average_days=None, median_days=None, longest_days=None)
    for days, dispute_id in ((2, 2), (3, 3), (10, 4)):
        clock.at = MONDAY_9AM + timedelta(days=days)
        chat.say(DANA, f"resolve {dispute_id} rejected")
    with ctx.sessions() as session:
        everything = dispute_cycle_times(session, MONDAY_9AM)
        lately = dispute_cycle_times(session, MONDAY_9AM + timedelta(days=3))
    assert (everything.resolved, everything.average_days, everything.median_days, everything.longest_days) == (
        3,
        Decimal("5.0"),
        Decimal("3.0"),
        Decimal("10.0"),
    )
    assert (lately.resolved, lately.average_days, lately.median_days) == (2, Decimal("6.5"), Decimal("6.5"))
