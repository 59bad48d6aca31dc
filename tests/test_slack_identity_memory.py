"""The members' Slack identities are answered from memory: the morning's direct messages read
them from the database once, not once each; what this process learns is answered at once, and
what another process wrote is seen once the snapshot is older than its time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from slack_sdk import WebClient
from sqlalchemy import event

from bot.slack.identity import SNAPSHOT_SECONDS, SlackIdentity
from commands.clock import FixedClock
from commands.context import AppContext
from storage.models import ChatIdentity
from tests.support.slack import FakeSlack

MEMBERS = {"dana.reyes@example.com": "U0DANA", "priya.shah@example.com": "U0PRIYA", "sam.okafor@example.com": "U0SAM"}


class Seconds:
    """A monotonic clock a test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def identity(ctx: AppContext, fake: FakeSlack, seconds: Seconds) -> SlackIdentity:
    people = SlackIdentity(WebClient(token="xoxb-test", base_url=fake.api_url), ctx)
    people.known.monotonic = seconds
    return people


def known_from_earlier(ctx: AppContext, clock: FixedClock) -> None:
    with ctx.sessions.begin() as session:
        for email, user_id in MEMBERS.items():
            session.add(
                ChatIdentity(
                    platform="slack", user_id=user_id, email=email, updated_at=clock.now(), dm_channel=f"D{user_id}"
                )
            )


@contextmanager
def identity_reads(ctx: AppContext) -> Iterator[list[str]]:
    """The statements that read chat_identities while the block runs."""
    engine = ctx.sessions.kw["bind"]
    seen: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if "chat_identities" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_the_mornings_direct_messages_read_the_identities_once(
    ctx: AppContext, fake: FakeSlack, clock: FixedClock
) -> None:
    known_from_earlier(ctx, clock)
    people = identity(ctx, fake, Seconds())
    with identity_reads(ctx) as reads:
        for _ in range(3):
            for email, user_id in MEMBERS.items():
                assert people.user_id_of(email) == user_id
                assert people.kept_dm_channel(user_id) == f"D{user_id}"
    assert len(reads) == 1
    assert fake.made() == []


def test_what_this_process_learns_is_answered_at_once(ctx: AppContext, fake: FakeSlack, clock: FixedClock) -> None:
    known_from_earlier(ctx, clock)
    people = identity(ctx, fake, Seconds())
    assert people.user_id_of("priya.shah@example.com") == "U0PRIYA"
    fake.users["U0PRIYA"] = "priya.s@example.com"  # her address changed; Slack says so after a week
    clock.advance(days=8)
    assert people.email_of("U0PRIYA") == "priya.s@example.com"
    assert people.user_id_of("priya.s@example.com") == "U0PRIYA"
    fake.users["U0PRIYA2"] = "priya.shah@example.com"  # and the old address is someone else's now
    assert people.user_id_of("priya.shah@example.com") == "U0PRIYA2"
    people.forget_dm_channel("U0DANA")  # Slack refused the kept channel
    assert people.kept_dm_channel("U0DANA") is None
    assert people.open_dm_channel("U0DANA") == people.kept_dm_channel("U0DANA") != "DU0DANA"


def test_another_processs_change_is_seen_once_the_snapshot_is_old(
    ctx: AppContext, fake: FakeSlack, clock: FixedClock
) -> None:
    known_from_earlier(ctx, clock)
    seconds = Seconds()
    people = identity(ctx, fake, seconds)
    assert people.kept_dm_channel("U0SAM") == "DU0SAM"
    with ctx.sessions.begin() as session:  # another replica opened Sam's direct messages again
        row = session.query(ChatIdentity).filter_by(user_id="U0SAM").one()
        row.dm_channel = "DNEWSAM"
    seconds.now += SNAPSHOT_SECONDS - 1
    assert people.kept_dm_channel("U0SAM") == "DU0SAM"
    seconds.now += 2
    assert people.kept_dm_channel("U0SAM") == "DNEWSAM"


def test_a_member_missing_from_the_snapshot_is_still_found_in_the_database(
    ctx: AppContext, fake: FakeSlack, clock: FixedClock
) -> None:
    people = identity(ctx, fake, Seconds())
    assert people.kept_dm_channel("U0DANA") is None  # the snapshot is read, empty
    known_from_earlier(ctx, clock)  # another replica learned everyone meanwhile
    assert people.user_id_of("dana.reyes@example.com") == "U0DANA"
    assert people.kept_dm_channel("U0DANA") == "DU0DANA"
    assert fake.made() == []
