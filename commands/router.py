"""The one entry point adapters call: :func:`handle` turns an :class:`Incoming` into replies.

One message is one transaction. What the use case says to anyone but the asker is written to the
outbox in that same transaction (commands.outbox), and only the asker's answer is returned. A
refusal, from parsing or from a handler, rolls it back and answers with what was understood; an
unexpected error rolls it back, goes to the log with its traceback and a short reference, and the
user sees only that reference, never a traceback (commands.failures).

A request with an idempotency key (``Incoming.request_id``) stores the key and its answer in the
same transaction (commands.idempotency): a redelivery is answered with the first answer, and when
the connection is lost around COMMIT the key is looked up so the answer says truly whether the
request was saved.

A command that only looks (``Command.reads_only``: status, list, report, help) runs in a
read-only transaction instead: it takes no write lock, so writers never queue behind a read, and
it stores no key, because it has no effect to keep once (asked again, it is answered again). When
such a command has something to send to others after all, it is run again as a writer, so what
it queues commits with its key as any command's effects do."""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands import idempotency
from commands.actor import Actor
from commands.context import AppContext
from commands.delivery import tracked_key
from commands.failures import Saved, failure_reply
from commands.handlers.registry import Command, ParseEnv, Registry
from commands.messages import ChatUser, Incoming, Reply
from commands.outbox.entries import enqueue
from commands.parsing import decisions
from commands.parsing.text import clean_text, quote
from commands.refusal import PointsAtNothing, Refusal
from commands.workflows.approvals import request_id_of
from commands.workflows.clearance_card import clearance_id_of
from commands.workflows.payment_card import confirmation_id_of
from storage.audit import record
from storage.db import read_only
from storage.db_problems import connection_lost
from storage.models import TeamMember

log = logging.getLogger(__name__)

HANDLERS_PACKAGE = "commands.handlers"


def command_modules() -> tuple[str, ...]:
    """Every module in commands/handlers/ that registers something. Adding a command is adding
    one module with a ``register(registry)`` function; nothing else to edit."""
    package = importlib.import_module(HANDLERS_PACKAGE)
    names = sorted(info.name for info in pkgutil.iter_modules(package.__path__))
    modules = (f"{HANDLERS_PACKAGE}.{name}" for name in names)
    return tuple(m for m in modules if hasattr(importlib.import_module(m), "register"))


@cache
def default_registry() -> Registry:
    """Every command module's registrations, built once on first use."""
    return build_registry(command_modules())


def build_registry(modules: tuple[str, ...]) -> Registry:
    registry = Registry()
    for name in modules:
        importlib.import_module(name).register(registry)
    return registry


def handle(ctx: AppContext, incoming: Incoming, *, registry: Registry | None = None) -> list[Reply]:
    """Answer one message or button press. Never raises for anything a user can send."""
    try:
        return _in_transaction(ctx, incoming, registry if registry is not None else default_registry())
    except idempotency.InProgress:
        log.info("request %s is being handled by another delivery; this one is dropped", incoming.request_id)
        return []
    except CommitUnknown as unknown:
        return _after_lost_commit(ctx, incoming, unknown.__cause__ or unknown)
    except Exception as exc:
        return [failure_reply(exc, detail=_described(incoming))]


class CommitUnknown(Exception):
    """The connection failed while COMMIT was on its way: it may or may not have taken effect."""


def _in_transaction(ctx: AppContext, incoming: Incoming, registry: Registry) -> list[Reply]:
    if reads_only(incoming, registry):
        answer = _as_reader(ctx, incoming, registry)
        if answer is not None:
            return answer
    return _as_writer(ctx, incoming, registry)


def reads_only(incoming: Incoming, registry: Registry) -> bool:
    """Whether the message is a command that only looks, known from its words alone (before any
    transaction): not a button, not a line that reads as a decision (in a card's thread that goes
    to the card's command), and its first word a ``reads_only`` command."""
    return incoming.action is None and words_only_look(incoming.text, registry)


def words_only_look(text: str | None, registry: Registry | None = None) -> bool:
    """Whether typed words are a command that only looks (see :func:`reads_only`): adapters ask
    before anything runs, to let one run answer several people asking the same
    (bot.runtime.shared_answers)."""
    text = clean_text(text or "").strip()
    if not text or decisions.read(text) is not None:
        return False
    command = (registry if registry is not None else default_registry()).find(text.split(maxsplit=1)[0])
    return command is not None and command.reads_only


def _as_reader(ctx: AppContext, incoming: Incoming, registry: Registry) -> list[Reply] | None:
    """The command in a read-only transaction, rolled back at the end (it wrote nothing); None
    when its outcome is to be sent to others too, which needs a writer."""
    with ctx.sessions() as session:
        read_only(session)
        outcome = _dispatch(session, ctx, incoming, registry)
        session.rollback()
    if isinstance(outcome, Refusal):
        return _refused(ctx, incoming, outcome)
    if not all(reply.for_asker for reply in outcome):
        return None
    return outcome


def _refused(ctx: AppContext, incoming: Incoming, refusal: Refusal) -> list[Reply]:
    if _on_the_record(refusal, incoming):
        _audit_refusal(ctx, incoming, refusal)
    return [refusal.to_reply()]


def _as_writer(ctx: AppContext, incoming: Incoming, registry: Registry) -> list[Reply]:
    platform, key = incoming.user.platform, incoming.request_id
    with ctx.sessions() as session:
        if key is not None:
            earlier = idempotency.earlier_answer(session, platform, key)
            if earlier is not None:
                log.info("request %s was handled before; answered as then", key)
                return earlier
            claimed = idempotency.claim(session, ctx.clock, platform, key)
        outcome = _dispatch(session, ctx, incoming, registry)
        if isinstance(outcome, Refusal):
            session.rollback()
            return _refused(ctx, incoming, outcome)
        queued = enqueue(session, ctx, outcome)
        answer = [reply for reply in outcome if reply.for_asker]
        if key is not None:
            idempotency.keep_answer(claimed, answer)
        _commit(session)
    if queued:
        ctx.on_enqueued()
    return answer


def _commit(session: Session) -> None:
    try:
        session.commit()
    except Exception as exc:
        if connection_lost(exc):
            raise CommitUnknown from exc
        raise


def _after_lost_commit(ctx: AppContext, incoming: Incoming, exc: BaseException) -> list[Reply]:
    """Tell the truth about a COMMIT whose reply never came: look the request's key up."""
    detail = _described(incoming)
    if incoming.request_id is None:
        return [failure_reply(exc, saved=Saved.UNKNOWN, detail=detail)]
    try:
        stored = idempotency.committed_answer(ctx.sessions, incoming.user.platform, incoming.request_id)
    except Exception:
        log.warning("could not check whether request %s was saved", incoming.request_id, exc_info=True)
        return [failure_reply(exc, saved=Saved.UNKNOWN, detail=detail)]
    if stored is None:
        return [failure_reply(exc, saved=Saved.NO, detail=detail)]
    log.warning("request %s: the COMMIT's reply was lost, and it was saved", incoming.request_id)
    ctx.on_enqueued()
    return stored


def _described(incoming: Incoming) -> str:
    return (
        f"from {incoming.user.email}: text={(incoming.text or '')[:200]!r} action={incoming.action!r}"
        f" key={incoming.request_id}"
    )


def _on_the_record(refusal: Refusal, incoming: Incoming) -> bool:
    """Refusals that say something about who is knocking, not about a typo: someone the team
    does not know (or whose email is hidden), and a button that points at nothing (stale or
    forged). Typed mistakes and values a form got wrong write nothing, as bad input should."""
    return isinstance(refusal, _IdentityRefusal) or (
        incoming.action is not None and isinstance(refusal, PointsAtNothing)
    )


def _audit_refusal(ctx: AppContext, incoming: Incoming, refusal: Refusal) -> None:
    """On the record in a transaction of its own (the request's was rolled back)."""
    user = incoming.user
    action = incoming.action
    button = (
        None
        if action is None
        else {clean_text(str(k))[:40]: clean_text(str(v))[:100] for k, v in list(action.value.items())[:10]}
    )
    with ctx.sessions.begin() as session:
        record(
            session,
            at=ctx.clock.now(),
            actor=clean_text(user.email or f"{user.platform}:{user.user_id}")[:254],
            action="chat.refused",
            entity_type="chat_request",
            refused=clean_text(refusal.message)[:300],
            platform=user.platform,
            user_id=clean_text(user.user_id)[:200],
            where=clean_text(incoming.where.channel)[:200],
            button=clean_text(action.name)[:100] if action else None,
            button_value=button,
        )


class _IdentityRefusal(Refusal):
    """A refusal of the person, not of what they asked."""


def _dispatch(session: Session, ctx: AppContext, incoming: Incoming, registry: Registry) -> list[Reply] | Refusal:
    actor = find_actor(session, ctx, incoming.user)
    if isinstance(actor, Refusal):
        return _IdentityRefusal(actor.message, actor.understood, actor.usage)
    if incoming.action is not None:
        button = registry.action(incoming.action.name)
        if button is None:
            return PointsAtNothing(f"I don't know what to do with the button {quote(incoming.action.name)}")
        return button.handle(_cleaned(incoming.action.value), actor, ctx, session=session)
    text = clean_text(incoming.text or "").strip()
    if not text:
        return Refusal("say `help` to see what I can do")
    key = tracked_key(session, incoming.where)
    routed = command_for(text, key, registry)
    if routed is None:
        if key is not None:
            return []  # people talking in a request's thread: discussion, not a command
        return _unknown(text.split(maxsplit=1)[0], registry)
    command, args = routed
    return _run(command, args, session, ctx, incoming, actor, registry)


def command_for(text: str, key: str | None, registry: Registry) -> tuple[Command[Any], str] | None:
    """The command a typed line goes to, and the text it parses: in the thread of a card
    (``key``, its tracked key) a line that reads as a decision goes whole to the card's own
    command; else the command its first word names, with the rest. None: no command takes it."""
    card_command = _decision_command(key, text, registry)
    if card_command is not None:
        return card_command, text
    word, *rest = text.split(maxsplit=1)
    command = registry.find(word)
    return (command, rest[0] if rest else "") if command is not None else None


def _run(
    command: Command[Any],
    args: str,
    session: Session,
    ctx: AppContext,
    incoming: Incoming,
    actor: Actor,
    registry: Registry,
) -> list[Reply] | Refusal:
    request = command.parse(args, ParseEnv(session, ctx, incoming, actor, registry))
    if isinstance(request, Refusal):
        return request.with_usage(command.usage)
    return command.handle(request, actor, ctx, session=session)


# The command that reads typed decisions for each kind of card, by the card's tracked key.
_CARD_COMMANDS: tuple[tuple[Callable[[str | None], int | None], str], ...] = (
    (request_id_of, "approve"),
    (confirmation_id_of, "confirm"),
    (clearance_id_of, "clear"),
)


def _decision_command(key: str | None, text: str, registry: Registry) -> Command[Any] | None:
    """In a card's thread, a line that reads as a decision (taken or doubtful) goes to the
    card's own command whatever word it starts with ("Approved.", "Thanks, confirmed"), so it
    is decided or answered with how to say it instead of passing as talk. Anything else in the
    thread is a command or talk, as everywhere."""
    name = next((name for card_id, name in _CARD_COMMANDS if card_id(key) is not None), None)
    if name is None or decisions.read(text) is None:
        return None
    return registry.find(name)


def wanted_in_thread(text: str, registry: Registry | None = None) -> bool:
    """Whether a line typed in a thread under one of the bot's posts is for the bot: it starts
    with a command word, or it reads like a decision. Adapters that see every message in a
    thread use it to pass these on and leave the team's talk alone."""
    text = clean_text(text).strip()
    if not text:
        return False
    found = (registry if registry is not None else default_registry()).find(text.split(maxsplit=1)[0])
    return found is not None or decisions.read(text) is not None


def _cleaned(value: Mapping[str, Any]) -> dict[str, Any]:
    """Button data comes back from the chat client and may be forged: its text gets the same
    cleaning as typed text (PostgreSQL, for one, refuses a NUL character in a query)."""
    return {key: clean_text(item) if isinstance(item, str) else item for key, item in value.items()}


def find_actor(session: Session, ctx: AppContext, user: ChatUser) -> Actor | Refusal:
    """The team member behind a chat user, found by email in the team file and the database."""
    if not user.email:
        return Refusal(
            "I can't see your email address, so I can't tell who you are on the team; "
            "ask an admin to check the bot's access to profile emails"
        )
    member = ctx.team.member(user.email)
    if member is None:
        return Refusal(
            f"{quote(user.email)} is not on the {ctx.team.name} team; ask an admin to add you to the team file"
        )
    member_id = session.scalar(select(TeamMember.id).where(TeamMember.email == member.email, TeamMember.active))
    if member_id is None:
        return Refusal(
            f"{member.email} is in the team file but not yet in the database; "
            "ask an admin to restart the bot so it picks up the team file"
        )
    return Actor(member, member_id)


def _unknown(word: str, registry: Registry) -> Refusal:
    names = ", ".join(c.name for c in registry.commands)
    guess = registry.suggest(word)
    hint = f"Did you mean `{guess}`? " if guess else ""
    return Refusal(f"I don't know the command {quote(word)}. {hint}I know: {names}. Say `help` for how to use them")
