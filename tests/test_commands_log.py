"""Collector types ``log ...``: one activity and one audit event, or one refusal and no writes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from commands.context import AppContext
from commands.messages import Tone
from storage.models import Activity, ActivityKind, AuditEvent, Outcome, TeamMember
from tests.support.world import DANA, field, refused, row_counts, say, seed_world

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def _new_activity(ctx: AppContext) -> Activity:
    with ctx.sessions() as session:
        return session.scalars(select(Activity).order_by(Activity.id.desc())).first()


@pytest.mark.parametrize(
    ("text", "erp_id", "kind", "outcome", "contact", "note"),
    [
        ("log acme dental reached", "C100", ActivityKind.CALL, Outcome.REACHED, None, None),
        ("log C100 no-answer", "C100", ActivityKind.CALL, Outcome.NO_ANSWER, None, None),
        ("log c100 no answer tried twice", "C100", ActivityKind.CALL, Outcome.NO_ANSWER, None, "tried twice"),
        (
            "log acme ortho voicemail left a message",
            "C200",
            ActivityKind.VOICEMAIL,
            Outcome.VOICEMAIL,
            None,
            "left a message",
        ),
        ("log acme ortho vm", "C200", ActivityKind.VOICEMAIL, Outcome.VOICEMAIL, None, None),
        (
            "log zenith email-sent statement resent",
            "C600",
            ActivityKind.EMAIL,
            Outcome.EMAIL_SENT,
            None,
            "statement resent",
        ),
        ("log zenith wrong-number", "C600", ActivityKind.CALL, Outcome.WRONG_NUMBER, None, None),
        (
            "log zenith refused: says they never got the goods",
            "C600",
            ActivityKind.CALL,
            Outcome.REFUSED,
            None,
            "says they never got the goods",
        ),
        (
            "log acme dental reached with Jane will pay fri",
            "C100",
            ActivityKind.CALL,
            Outcome.REACHED,
            "Jane",
            "will pay fri",
        ),
        (
            'log acme dental reached with "Jane Doe" will pay fri',
            "C100",
            ActivityKind.CALL,
            Outcome.REACHED,
            "Jane Doe",
            "will pay fri",
        ),
        (
            "log acme dental reached with Jane Doe: will pay fri",
            "C100",
            ActivityKind.CALL,
            Outcome.REACHED,
            "Jane Doe",
            "will pay fri",
        ),
        ("log acme dental reached with Jane", "C100", ActivityKind.CALL, Outcome.REACHED, "Jane", None),
        (
            'log "Summit Ortho, P.C." reached with Dr. Ames',
            "C300",
            ActivityKind.CALL,
            Outcome.REACHED,
            "Dr. Ames",
            None,
        ),
        (
            "log acme dental reached with Kim Lee will pay fri",
            "C100",
            ActivityKind.CALL,
            Outcome.REACHED,
            "Kim Lee",
            "will pay fri",
        ),
        (
            "log acme dental reached with Kim Lee, AP clerk. Pays fri",
            "C100",
            ActivityKind.CALL,
            Outcome.REACHED,
            "Kim Lee",
            "AP clerk. Pays fri",
        ),
        (
            "log acme dental reached with Mary J. Blige in AP",
            "C100",
            ActivityKind.CALL,
            Outcome.REACHED,
            "Mary J. Blige",
            "in AP",
        ),
        ("log acme dental reached with kim lee", "C100", ActivityKind.CALL, Outcome.REACHED, "kim", "lee"),
        ("log route 66 reached", "C400", ActivityKind.CALL, Outcome.REACHED, None, None),
    ],
)
def test_log_writes_one_activity_and_one_audit_event(
    ctx: AppContext, text: str, erp_id: str, kind: ActivityKind, outcome: Outcome, contact: str | None, note: str | None
) -> None:
    ids = seed_world(ctx)
    before = row_counts(ctx)
    [reply] = say(ctx, text)
    assert reply.tone is Tone.SUCCESS, reply
    after = row_counts(ctx)
    assert after["activities"] == before["activities"] + 1
    assert after["audit_events"] == before["audit_events"] + 1
    assert {k: v for k, v in after.items() if k not in ("activities", "audit_events")} == {
        k: v for k, v in before.items() if k not in ("activities", "audit_events")
    }
    activity = _new_activity(ctx)
    assert (activity.customer_id, activity.kind, activity.outcome) == (ids[erp_id], kind, outcome)
    assert (activity.contact_name, activity.note, activity.occurred_at) == (contact, note, NOW)
    with ctx.sessions() as session:
        dana = session.scalar(select(TeamMember.id).where(TeamMember.email == DANA))
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert activity.member_id == dana
    assert (event.action, event.entity_type, event.entity_id, event.customer_id, event.actor) == (
        "activity.logged",
        "activity",
        activity.id,
        ids[erp_id],
        DANA,
    )
    assert event.data["outcome"] == outcome.value and event.data["note"] == note


def test_the_reply_confirms_what_was_logged_and_the_balance(ctx: AppContext) -> None:
    seed_world(ctx)
    [reply] = say(ctx, "log acme dental reached with Jane Doe: will pay fri")
    assert reply.title == "Logged call for Acme Dental Group (C100)"
    assert field(reply, "Outcome") == "reached"
    assert field(reply, "Spoke with") == "Jane Doe"
    assert field(reply, "Note") == "will pay fri"
    assert field(reply, "Balance") == "$3,350.10"


def test_markup_in_a_note_is_stored_verbatim_as_plain_text(ctx: AppContext) -> None:
    seed_world(ctx)
    [reply] = say(ctx, "log c100 reached <!channel> *bold* _it_ <https://x.test|click> \x07")
    assert reply.tone is Tone.SUCCESS
    assert _new_activity(ctx).note == "<!channel> *bold* _it_ <https://x.test|click>"
    assert field(reply, "Note") == "<!channel> *bold* _it_ <https://x.test|click>"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("log xyz reached", "no customer matches 'xyz'"),
        ("log acme reached", "'acme' matches several customers: Acme Dental Group (C100), Acme Ortho (C200)"),
        ("log acme dental", "what happened? Put an outcome after the customer: reached, no-answer, voicemail"),
        ("log", "which customer, and what happened?"),
        ("log reached", "what happened?"),
        ("log c100 reached with", "with whom?"),
        ("log c100 reached " + "x" * 40_000, "notes can be at most 2,000 characters and yours has 40,000"),
        ('log c100 reached with "' + "J" * 250 + '"', "at most 200 characters"),
    ],
)
def test_refusals_say_why_and_write_nothing(ctx: AppContext, text: str, says: str) -> None:
    seed_world(ctx)
    before = row_counts(ctx)
    reply = refused(say(ctx, text))
    assert says in reply.title
    assert "Usage: log <customer> <outcome> [with <person reached>] [note]" in reply.text
    assert row_counts(ctx) == before


def test_a_refused_long_note_says_what_was_understood(ctx: AppContext) -> None:
    seed_world(ctx)
    reply = refused(say(ctx, "log c100 voicemail " + "y" * 3000))
    assert "I understood: customer Acme Dental Group (C100), outcome voicemail." in reply.text
