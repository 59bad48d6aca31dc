"""The router: who is speaking, which command, one transaction per message, refusals and
failures that never leak a traceback, buttons by name, and help generated from the registry."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from commands.context import AppContext
from commands.handlers.registry import Actor, ButtonAction, Command, Handler, ParseEnv, Registry
from commands.messages import ChatUser, Incoming, Reply, Tone, Where
from commands.refusal import Refusal
from commands.router import build_registry, command_modules, handle
from storage.models import Activity, ActivityKind, AuditEvent, Outcome, TeamMember
from tests.support.world import DANA, PRIYA, press, refused, row_counts, say, seed_world


@dataclass(frozen=True)
class _Note:
    text: str


def _parse_note(args: str, env: ParseEnv) -> _Note | Refusal:
    return _Note(args)


def _write_then(outcome: str) -> Handler[_Note]:
    """A handler that writes an activity, then fails or refuses: the write must not survive."""

    def run(request: _Note, actor: Actor, ctx: AppContext, *, session: Session) -> list[Reply] | Refusal:
        customer_id = session.scalar(select(Activity.customer_id))
        session.add(
            Activity(
                customer_id=customer_id,
                member_id=actor.member_id,
                kind=ActivityKind.CALL,
                outcome=Outcome.REACHED,
                note=request.text,
                occurred_at=ctx.clock.now(),
            )
        )
        session.flush()
        if outcome == "raise":
            raise RuntimeError("disk on fire")
        return Refusal("changed my mind")

    return run


def _registry_with_test_commands() -> Registry:
    registry = build_registry(command_modules())
    registry.add(
        Command(
            name="boom",
            usage="boom <text>",
            summary="Fails after writing.",
            parse=_parse_note,
            handle=_write_then("raise"),
        )
    )
    registry.add(
        Command(
            name="nah",
            usage="nah <text>",
            summary="Refuses after writing.",
            parse=_parse_note,
            handle=_write_then("refuse"),
        )
    )
    return registry


def _say(ctx: AppContext, text: str, registry: Registry) -> list[Reply]:
    user = ChatUser(platform="test", user_id="u1", email=DANA)
    return handle(ctx, Incoming(user=user, where=Where(channel="C1"), text=text), registry=registry)


def test_an_unexpected_error_rolls_back_logs_a_reference_and_shows_no_traceback(
    ctx: AppContext, caplog: pytest.LogCaptureFixture
) -> None:
    seed_world(ctx)
    before = row_counts(ctx)
    with caplog.at_level(logging.ERROR, logger="commands.router"):
        [reply] = _say(ctx, "boom hello", _registry_with_test_commands())
    match = re.fullmatch(r"Something went wrong on our side; nothing was saved \(ref ([A-Z0-9]{6})\)", reply.title)
    assert match, reply.title
    assert reply.tone is Tone.ERROR and "Traceback" not in reply.title + reply.text
    assert row_counts(ctx) == before
    [log] = caplog.records
    assert match.group(1) in log.getMessage() and DANA in log.getMessage()
    assert log.exc_info is not None and "disk on fire" in str(log.exc_info[1])


def test_a_refusal_from_a_handler_rolls_back_what_it_wrote(ctx: AppContext) -> None:
    seed_world(ctx)
    before = row_counts(ctx)
    reply = refused(_say(ctx, "nah hello", _registry_with_test_commands()))
    assert reply.title == "changed my mind"
    assert row_counts(ctx) == before


def test_a_new_command_is_one_registration_and_help_lists_it(ctx: AppContext) -> None:
    [reply] = _say(ctx, "help", _registry_with_test_commands())
    titles = [r.title for r in reply.rows]
    for usage in (
        "list [<collector> | team]",
        "log <customer> <outcome> [with <person reached>] [note]",
        "promise <customer> <amount> <date> [note]",
        "status <customer>",
        "help [command]",
    ):
        assert usage in titles
    assert titles[-2:] == ["boom <text>", "nah <text>"]
    assert reply.rows[-1].detail == "Refuses after writing."


def test_a_word_or_button_registered_twice_is_a_programming_error() -> None:
    registry = build_registry(command_modules())
    with pytest.raises(ValueError, match="'ptp' is registered twice"):
        registry.add(
            Command(
                name="pledge",
                usage="pledge",
                summary="",
                parse=_parse_note,
                handle=_write_then("refuse"),
                aliases=("ptp",),
            )
        )
    with pytest.raises(ValueError, match="'log_call' is registered twice"):
        registry.add_action(ButtonAction("log_call", lambda *a, **k: []))


def test_help_for_one_command_shows_usage_aliases_and_examples(ctx: AppContext) -> None:
    [reply] = say(ctx, "help promise")
    assert reply.title == "promise <customer> <amount> <date> [note]"
    assert "Also: ptp." in reply.text
    assert "promise acme dental 1,200 fri" in [r.title for r in reply.rows]
    assert "there is no command 'fly'" in refused(say(ctx, "help fly")).title


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("STATUS c100", "Acme Dental Group (C100)"),
        ("st c100", "Acme Dental Group (C100)"),
        ("?", "What I can do"),
    ],
)
def test_command_words_ignore_case_and_know_their_aliases(ctx: AppContext, text: str, title: str) -> None:
    seed_world(ctx)
    assert say(ctx, text)[0].title == title


def test_unknown_commands_get_a_suggestion(ctx: AppContext) -> None:
    reply = refused(say(ctx, "promse acme 100 fri"))
    assert reply.title.startswith("I don't know the command 'promse'. Did you mean `promise`?")
    known = reply.title.split("I know: ")[1].split(". Say")[0].split(", ")
    assert {"list", "log", "promise", "status", "help"} <= set(known)
    assert "say `help`" in refused(say(ctx, "   \x00 ")).title


@pytest.mark.parametrize(
    ("email", "says"),
    [
        ("stranger@example.com", "'stranger@example.com' is not on the Ridgeview Collections team"),
        (None, "I can't see your email address"),
    ],
)
def test_people_not_on_the_team_are_refused(ctx: AppContext, email: str | None, says: str) -> None:
    """Refused, and on the record: nothing else is written but one audit event per attempt."""
    seed_world(ctx)
    before = row_counts(ctx)
    assert says in refused(say(ctx, "log c100 reached", email=email)).title
    assert says in refused(press(ctx, "log_call", {"customer": "C100"}, email=email or "")).title
    assert row_counts(ctx) == {**before, "audit_events": before["audit_events"] + 2}
    first, second = refusal_events(ctx)
    assert first.actor == (email or "test:anon") and says in first.data["refused"]
    assert (second.data["button"], second.data["button_value"]) == ("log_call", {"customer": "C100"})


def refusal_events(ctx: AppContext) -> list[AuditEvent]:
    with ctx.sessions() as session:
        return list(
            session.scalars(select(AuditEvent).where(AuditEvent.action == "chat.refused").order_by(AuditEvent.id))
        )


def test_a_member_missing_from_the_database_is_refused(ctx: AppContext) -> None:
    with ctx.sessions.begin() as session:
        session.execute(update(TeamMember).where(TeamMember.email == DANA).values(active=False))
    assert "in the team file but not yet in the database" in refused(say(ctx, "help")).title


def test_emails_are_matched_without_regard_to_case(ctx: AppContext) -> None:
    seed_world(ctx)
    assert say(ctx, "status c100", email="Dana.Reyes@Example.com")[0].tone is Tone.INFO


@pytest.mark.parametrize(
    ("name", "title", "typed"),
    [
        ("log_call", "Log a contact with Acme Dental Group (C100)", "Type: log C100 <outcome>"),
        ("promise", "Record a promise from Acme Dental Group (C100)", "Type: promise C100 <amount> <date> [note]"),
    ],
)
def test_call_list_buttons_explain_the_typed_command(ctx: AppContext, name: str, title: str, typed: str) -> None:
    seed_world(ctx)
    before = row_counts(ctx)
    [reply] = press(ctx, name, {"customer": "C100"}, email=PRIYA)
    assert (reply.title, reply.private, reply.tone) == (title, True, Tone.INFO)
    assert typed in reply.text
    assert row_counts(ctx) == before


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("log_call", {}, "that button doesn't say which customer it is for"),
        ("promise", {"customer": 100}, "that button doesn't say which customer it is for"),
        ("promise", {"customer": "c100"}, "which is no longer on the ledger"),  # ids from buttons are exact
        ("log_call", {"customer": "GONE"}, "points at customer 'GONE', which is no longer on the ledger"),
        ("launch", {"customer": "C100"}, "I don't know what to do with the button 'launch'"),
    ],
)
def test_stale_or_forged_buttons_are_refused(ctx: AppContext, name: str, value: dict, says: str) -> None:
    """Refused, writing nothing but the audit event that keeps the attempt on the record."""
    seed_world(ctx)
    before = row_counts(ctx)
    assert says in refused(press(ctx, name, value)).title
    assert row_counts(ctx) == {**before, "audit_events": before["audit_events"] + 1}
    [event] = refusal_events(ctx)
    assert (event.actor, event.data["button"]) == (DANA, name) and says in event.data["refused"]


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("approval.approve", {"id": 999}, "approval request #999, which does not exist"),
        ("confirmation.confirm", {"id": "4242"}, "payment confirmation #4242, which does not exist"),
    ],
)
def test_buttons_naming_requests_that_do_not_exist_are_on_the_record(
    ctx: AppContext, name: str, value: dict, says: str
) -> None:
    seed_world(ctx)
    assert says in refused(press(ctx, name, value, email=PRIYA)).title
    [event] = refusal_events(ctx)
    assert event.data["button_value"] == {"id": str(value["id"])}


def test_a_typed_mistake_writes_nothing_at_all(ctx: AppContext) -> None:
    seed_world(ctx)
    before = row_counts(ctx)
    refused(say(ctx, "promise acme 1,2,3 someday"))
    assert row_counts(ctx) == before
