"""The examples each chat command documents (``Command.examples``, shown by ``help <command>``)
are commands the bot takes: each one, routed as the router routes it, parses without a refusal.

The ledger is the demo portfolio (``arbot demo``) with the accounts the examples name beside it
(Acme Dental Group C100, Acme Ortho C200, Summit Ortho, P.C. C300: tests.support.world), since the
demo's own customers are generated and carry DEMO- ids. Each example is typed by someone who may
say it, where it is said: a decision in the thread of its card, a command in a personal chat."""

from __future__ import annotations

import pytest

from commands.context import AppContext
from commands.delivery import tracked_key
from commands.handlers.registry import ParseEnv
from commands.messages import ChatUser, Incoming, Where
from commands.refusal import Refusal
from commands.router import command_for, default_registry, find_actor
from demo import load_demo
from storage.models import Dispute
from tests.support.harness import Conversation
from tests.support.world import seed_world

DANA, PRIYA, MARIA, JO = (
    "dana.reyes@example.com",
    "priya.shah@example.com",
    "maria.lopez@example.com",
    "jo.park@example.com",
)

# Who types a command's examples (anyone else: Dana, a collector).
SPEAKER = {
    "approve": MARIA,
    "reject": MARIA,
    "confirm": PRIYA,
    "notreceived": PRIYA,
    "partial": PRIYA,
    "report": MARIA,
}  # `report weekly` is for managers, finance and admins

# Examples that are replies in the thread of a card, by the card they answer.
APPROVAL, PAYMENT, CLEARANCE = "approval", "payment", "clearance"
IN_THREAD = {"approve": APPROVAL, "reject": APPROVAL, "confirm": PAYMENT, "notreceived": PAYMENT, "partial": PAYMENT}
THREAD_REPLIES = {"clear because they paid this morning": CLEARANCE, "refuse because 95 days past due": CLEARANCE}

# Examples that are deliberately ambiguous here: the ledger has two customers whose names start
# with "Acme", and the answer lists both. Their grammar is checked with the rest of the name.
AMBIGUOUS = {
    "status acme": "status acme dental",
    'contact acme "Jane Doe" jane@acme.example billing': 'contact acme dental "Jane Doe" jane@acme.example billing',
    'log acme reached with "Jane Doe" will pay Friday': 'log acme dental reached with "Jane Doe" will pay Friday',
    "log acme email-sent statement resent": "log acme dental email-sent statement resent",
}


def every_example() -> list[tuple[str, str]]:
    return [(command.name, example) for command in default_registry().commands for example in command.examples]


def test_every_command_documents_examples() -> None:
    assert [command.name for command in default_registry().commands if not command.examples] == []


@pytest.fixture
def cards(ctx: AppContext) -> dict[str, Where]:
    """The demo portfolio (five disputes), the examples' accounts (one more), a seventh dispute
    for the `resolve 7` examples, and one open card of each kind to reply under: Dana's hold
    request (approval), her payment (finance's confirmation) and Jo's clearance request (to Dana,
    the account's collector). The thread under each card."""
    with ctx.sessions.begin() as session:
        load_demo(session, ctx)
    seed_world(ctx)
    chat = Conversation(ctx)
    chat.say(DANA, 'dispute "Summit Ortho, P.C." S-1 $1,500 service never delivered')  # dispute #7
    chat.say(DANA, "hold acme ortho retainer unpaid")
    approval = chat.last_post("approvals")
    chat.say(DANA, "paid acme dental 1,200")
    payment = chat.last_post("finance")
    before = len(chat.messenger.sent)
    chat.say(JO, "clear acme ortho for scheduling on 12/1")
    [clearance] = [sent for sent in chat.messenger.sent[before:] if sent.kind in ("post", "direct")][:1]
    return {APPROVAL: approval.ref.thread(), PAYMENT: payment.ref.thread(), CLEARANCE: clearance.ref.thread()}


def parsed(ctx: AppContext, text: str, *, by: str, where: Where) -> object:
    """What the command the router picks for ``text`` makes of it (a request, or a Refusal)."""
    registry = default_registry()
    user = ChatUser(platform="test", user_id=by, email=by)
    incoming = Incoming(user=user, where=where, text=text)
    with ctx.sessions() as session:
        actor = find_actor(session, ctx, user)
        assert not isinstance(actor, Refusal), actor.message
        routed = command_for(text, tracked_key(session, where), registry)
        if routed is None:
            return Refusal(f"no command takes {text!r} there")
        command, args = routed
        result = command.parse(args, ParseEnv(session, ctx, incoming, actor, registry))
        session.rollback()
        return result


def test_each_documented_example_parses(ctx: AppContext, cards: dict[str, Where]) -> None:
    with ctx.sessions() as session:
        assert session.get(Dispute, 7) is not None, "the `resolve 7` examples need a dispute #7"
    refused = {}
    for name, example in every_example():
        card = THREAD_REPLIES.get(example) or IN_THREAD.get(name)
        where = cards[card] if card else Where(f"dm:{SPEAKER.get(name, DANA)}")
        by = DANA if example in THREAD_REPLIES else SPEAKER.get(name, DANA)
        result = parsed(ctx, AMBIGUOUS.get(example, example), by=by, where=where)
        if isinstance(result, Refusal):
            refused[example] = result.message
    assert refused == {}


def test_the_ambiguous_examples_are_ambiguous_here_and_say_so(ctx: AppContext, cards: dict[str, Where]) -> None:
    """The examples that say just "acme" are refused only for naming two customers."""
    for example in AMBIGUOUS:
        result = parsed(ctx, example, by=DANA, where=Where(f"dm:{DANA}"))
        assert isinstance(result, Refusal)
        assert result.message.startswith(
            "'acme' matches several customers: Acme Dental Group (C100), Acme Ortho (C200)"
        )


def test_the_tables_above_name_real_examples() -> None:
    """A renamed or removed example must not leave these tables checking nothing."""
    documented = {example for _name, example in every_example()}
    names = {command.name for command in default_registry().commands}
    assert set(THREAD_REPLIES) <= documented and set(AMBIGUOUS) <= documented
    assert set(IN_THREAD) <= names and set(SPEAKER) <= names


def test_an_example_that_no_longer_parses_is_caught(ctx: AppContext, cards: dict[str, Where]) -> None:
    """The check itself can fail: a misspelt amount is refused, and a decision outside its
    card's thread goes nowhere."""
    assert isinstance(parsed(ctx, "promise acme dental 1,2,00 fri", by=DANA, where=Where(f"dm:{DANA}")), Refusal)
    assert isinstance(parsed(ctx, "Approved, thanks", by=MARIA, where=Where(f"dm:{MARIA}")), Refusal)


def test_help_fills_an_example_with_one_of_the_askers_own_accounts(ctx: AppContext) -> None:
    """On the demo portfolio alone the documented examples' accounts do not exist (`status C100`
    is refused), so `help <command>` also shows one example on an account of the asker's, and
    that line is one the bot takes."""
    with ctx.sessions.begin() as session:
        load_demo(session, ctx)
    dm = Where(f"dm:{DANA}")
    assert isinstance(parsed(ctx, "status C100", by=DANA, where=dm), Refusal)
    with_template = [command for command in default_registry().commands if command.try_it]
    assert len(with_template) >= 16
    chat = Conversation(ctx)
    refused = {}
    for command in with_template:
        [reply] = chat.say(DANA, f"help {command.name}")
        [line] = [line for line in reply.text.splitlines() if line.startswith("On one of your accounts: ")]
        tried = line.removeprefix("On one of your accounts: ")
        assert tried.split()[0] == command.name and " DEMO-C" in tried, tried
        result = parsed(ctx, tried, by=DANA, where=dm)
        if isinstance(result, Refusal):
            refused[tried] = result.message
    assert refused == {}
