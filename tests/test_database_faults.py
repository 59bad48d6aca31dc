"""A true answer when the database fails. Dana reports a payment ("paid C300 700 today wire")
while PostgreSQL, reached through a proxy the test breaks, refuses connections, hangs, or loses
the connection around COMMIT. Each time she hears back, with a reference, and what she hears is
what the database holds: "nothing was saved" only when nothing was, the payment's own answer
when it was, and "I can't tell yet" when the database cannot be asked; a redelivery of a
request that did commit is answered with its answer, not refused as a duplicate of itself."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, select, text

from bot.runtime.requests import ChatRuntime
from bot.settings import EXAMPLE_TEAM_FILE
from commands.calendar import BusinessCalendar
from commands.clock import FixedClock
from commands.context import AppContext
from commands.messages import ChatUser, Incoming, Reply, Tone, Where
from commands.team import load_team, sync_members
from storage.db import Timeouts, make_engine, make_session_factory
from storage.models import InboundEvent, OutboxEntry, PaymentConfirmation
from tests.conftest import _truncate_all
from tests.support.faulty_proxy import CUT_AFTER_COMMIT, CUT_BEFORE_COMMIT, HANG, FaultyProxy
from tests.support.world import DANA, seed_world

MONDAY_MORNING = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
FAST = Timeouts(connect=1, statement=2, grace=1)
PAID = "paid C300 700 today wire"
SAVED_ANSWER = "Asked finance to confirm"


@pytest.fixture
def direct(postgres_server_engine: Engine | None) -> Engine:
    if postgres_server_engine is None:
        pytest.skip("needs TEST_DATABASE_URL (PostgreSQL)")
    _truncate_all(postgres_server_engine)
    return postgres_server_engine


@pytest.fixture
def proxy(direct: Engine) -> Iterator[FaultyProxy]:
    url = direct.url
    proxy = FaultyProxy(url.host or "127.0.0.1", url.port or 5432)
    proxy.start()
    yield proxy
    proxy.stop()


@pytest.fixture
def world(direct: Engine, proxy: FaultyProxy) -> Iterator[tuple[AppContext, AppContext]]:
    """(the bot's context, through the proxy; the test's own, straight to the server)."""
    team = load_team(EXAMPLE_TEAM_FILE)
    clock = FixedClock(MONDAY_MORNING)
    own = AppContext(
        sessions=make_session_factory(direct), team=team, calendar=BusinessCalendar(team.country), clock=clock
    )
    with own.sessions.begin() as session:
        sync_members(session, team)
    seed_world(own)
    proxied = make_engine(
        direct.url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False), timeouts=FAST
    )
    bot = AppContext(sessions=make_session_factory(proxied), team=team, calendar=own.calendar, clock=clock)
    yield bot, own
    proxied.dispose()


def dana_pays(runtime: ChatRuntime, key: str) -> list[Reply]:
    """Dana's request through the runtime every adapter uses, with its idempotency key; the
    answer must come even when the network hangs (checked without timing it)."""
    answer: list[list[Reply]] = []

    def ask() -> None:
        if runtime.first_sight(key):
            replies = runtime.converse(
                lambda: Incoming(
                    user=ChatUser("slack", "U0DANA", DANA), where=Where("D0DANA"), text=PAID, request_id=key
                )
            )
            runtime.finished(key, replies)
            answer.append(replies)
        else:
            answer.append([])

    asking = threading.Thread(target=ask, daemon=True)
    asking.start()
    asking.join(120)
    assert not asking.is_alive(), "the request never came back"
    return answer[0]


def claims(ctx: AppContext) -> int:
    with ctx.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(PaymentConfirmation)) or 0)


def finance_cards(ctx: AppContext) -> int:
    with ctx.sessions() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(OutboxEntry)
                .where(OutboxEntry.payload["title"].as_string().contains("Payment"))
            )
            or 0
        )


def one_error(replies: list[Reply]) -> str:
    [reply] = replies
    assert reply.tone is Tone.ERROR and reply.private, reply
    assert "(ref " in reply.title and "Traceback" not in reply.title + reply.text
    return reply.title


def test_the_path_works_before_anything_breaks(world: tuple[AppContext, AppContext]) -> None:
    bot, own = world
    [answer] = dana_pays(ChatRuntime(bot, "slack"), "Ev-ok")
    assert answer.tone is Tone.SUCCESS and answer.title.startswith(SAVED_ANSWER), answer
    assert claims(own) == 1


def test_refused_connections_say_nothing_was_saved(world: tuple[AppContext, AppContext], proxy: FaultyProxy) -> None:
    bot, own = world
    proxy.refuse()
    said = one_error(dana_pays(ChatRuntime(bot, "slack"), "Ev-refused"))
    assert "the database cannot be reached" in said and "nothing was saved" in said
    assert claims(own) == 0


def test_a_hung_network_ends_with_a_sentence(world: tuple[AppContext, AppContext], proxy: FaultyProxy) -> None:
    """The pool holds a connection that stops answering, and new ones hang before the server:
    the deadline cuts the first, the connect timeout ends the second."""
    bot, own = world
    runtime = ChatRuntime(bot, "slack")
    with bot.sessions() as session:
        session.execute(text("SELECT 1"))  # a pooled connection, open when the network hangs
    proxy.mode = HANG
    said = one_error(dana_pays(runtime, "Ev-hung"))
    assert "did not answer in time" in said or "connection to the database was lost" in said, said
    assert "nothing was saved" in said
    proxy.allow()
    proxy.drop_all()
    assert claims(own) == 0
    [again] = dana_pays(runtime, "Ev-after-hang")
    assert again.tone is Tone.SUCCESS, again


def test_a_commit_lost_before_the_server_got_it_is_not_saved(
    world: tuple[AppContext, AppContext], proxy: FaultyProxy
) -> None:
    bot, own = world
    proxy.mode = CUT_BEFORE_COMMIT
    said = one_error(dana_pays(ChatRuntime(bot, "slack"), "Ev-cut-before"))
    assert proxy.cuts == 1
    assert "nothing was saved" in said, said
    assert claims(own) == 0 and finance_cards(own) == 0


def test_a_commit_whose_reply_was_lost_is_answered_as_saved(
    world: tuple[AppContext, AppContext], proxy: FaultyProxy
) -> None:
    """The server committed; only its reply was lost. Dana gets the payment's own answer (the
    key was found), finance's card is queued once, and Slack's retry of the same event changes
    nothing and is not refused."""
    bot, own = world
    runtime = ChatRuntime(bot, "slack")
    proxy.mode = CUT_AFTER_COMMIT
    [answer] = dana_pays(runtime, "Ev-cut-after")
    assert proxy.cuts == 1
    assert answer.tone is Tone.SUCCESS and answer.title.startswith(SAVED_ANSWER), answer
    assert claims(own) == 1 and finance_cards(own) == 1
    other_process = ChatRuntime(bot, "slack")  # a redelivery reaching a replica that never saw it
    [repeat] = dana_pays(other_process, "Ev-cut-after")
    assert repeat == answer
    assert claims(own) == 1 and finance_cards(own) == 1
    with own.sessions() as session:
        assert session.scalar(select(func.count()).select_from(InboundEvent)) == 1


def test_when_the_outcome_cannot_be_checked_dana_is_told_so_and_a_retry_gets_the_answer(
    world: tuple[AppContext, AppContext], proxy: FaultyProxy
) -> None:
    bot, own = world
    runtime = ChatRuntime(bot, "slack")
    proxy.mode, proxy.after_cut = CUT_AFTER_COMMIT, "refuse"
    said = one_error(dana_pays(runtime, "Ev-unsure"))
    assert "can't tell yet whether it was" in said and "nothing was saved" not in said, said
    assert claims(own) == 1, "it was in fact saved"
    proxy.allow()
    [answer] = dana_pays(runtime, "Ev-unsure")  # the platform's retry, same key
    assert answer.tone is Tone.SUCCESS and answer.title.startswith(SAVED_ANSWER), answer
    assert dana_pays(runtime, "Ev-unsure") == [], "answered now: a further retry is dropped"
    assert claims(own) == 1 and finance_cards(own) == 1


def test_connections_carry_the_statement_timeout(direct: Engine) -> None:
    engine = make_engine(direct.url.render_as_string(hide_password=False), timeouts=Timeouts(statement=7))
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW statement_timeout")).scalar() == "7s"
    finally:
        engine.dispose()


def test_a_slack_user_not_yet_known_hears_back_while_the_database_is_away(
    world: tuple[AppContext, AppContext], proxy: FaultyProxy
) -> None:
    """Who they are is looked up in the database first (the identity cache): that failure is
    inside the same error path as the command."""
    from slack_sdk import WebClient

    from bot.slack.identity import SlackIdentity

    bot, _ = world
    people = SlackIdentity(WebClient(token="xoxb-unused", base_url="http://127.0.0.1:9/api/"), bot)
    proxy.refuse()
    said = one_error(
        ChatRuntime(bot, "slack").converse(
            lambda: Incoming(
                user=ChatUser("slack", "U0NEWCOMER", people.email_of("U0NEWCOMER")),
                where=Where("D0NEW"),
                text="list",
                request_id="Ev-newcomer",
            )
        )
    )
    assert "the database cannot be reached" in said
