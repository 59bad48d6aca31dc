"""Who is speaking: a Slack user is a team member by the ``slack_id`` the team file gives, or by
the email Slack reports (``users.info``), asked once and then remembered in the database; the
other way round, a member's direct messages are found by email. Someone Slack will not name, or
who is not on the team, is told so and nothing happens."""

from __future__ import annotations

from dataclasses import replace

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot.slack.identity import SlackIdentity, UnknownSlackUser, team_file_ids
from commands.clock import FixedClock
from commands.context import AppContext
from commands.team import team_from_dict
from storage.models import ChatIdentity
from tests.support.slack import FakeSlack, SlackWorld
from tests.support.world import row_counts


def identity(ctx: AppContext, fake: FakeSlack) -> SlackIdentity:
    return SlackIdentity(WebClient(token="xoxb-test", base_url=fake.api_url), ctx)


def with_slack_ids(ctx: AppContext, ids: dict[str, str]) -> AppContext:
    raw = {
        **ctx.team.raw,
        "members": [
            {**m, **({"slack_id": ids[m["email"]]} if m["email"] in ids else {})} for m in ctx.team.raw["members"]
        ],
    }
    return replace(ctx, team=team_from_dict(raw))


def test_slack_ids_in_the_team_file_need_no_lookup(ctx: AppContext, fake: FakeSlack) -> None:
    ctx = with_slack_ids(ctx, {"dana.reyes@example.com": "U0CUSTOM"})
    assert team_file_ids(ctx.team.raw) == {"U0CUSTOM": "dana.reyes@example.com"}
    people = identity(ctx, fake)
    assert people.email_of("U0CUSTOM") == "dana.reyes@example.com"
    assert people.user_id_of("Dana.Reyes@example.com") == "U0CUSTOM"
    assert fake.made() == []


def test_an_email_is_asked_once_and_remembered_across_restarts(ctx: AppContext, fake: FakeSlack) -> None:
    assert identity(ctx, fake).email_of("U0PRIYA") == "priya.shah@example.com"
    assert identity(ctx, fake).email_of("U0PRIYA") == "priya.shah@example.com"
    assert [c.params["user"] for c in fake.made("users.info")] == ["U0PRIYA"]
    with ctx.sessions() as session:
        [row] = session.scalars(select(ChatIdentity))
        assert (row.platform, row.user_id, row.email) == ("slack", "U0PRIYA", "priya.shah@example.com")
    assert identity(ctx, fake).user_id_of("priya.shah@example.com") == "U0PRIYA"
    assert fake.made("users.lookupByEmail") == []


def test_a_changed_address_is_picked_up_after_a_week(ctx: AppContext, fake: FakeSlack, clock: FixedClock) -> None:
    people = identity(ctx, fake)
    people.email_of("U0PRIYA")
    fake.users["U0PRIYA"] = "priya.s@example.com"
    clock.advance(days=6)
    assert people.email_of("U0PRIYA") == "priya.shah@example.com"
    clock.advance(days=2)
    assert people.email_of("U0PRIYA") == "priya.s@example.com"
    assert len(fake.made("users.info")) == 2


def test_a_member_without_a_slack_account_is_a_clear_error(ctx: AppContext, fake: FakeSlack) -> None:
    fake.users.pop("U0SAM")
    with pytest.raises(UnknownSlackUser, match="sam.okafor@example.com"):
        identity(ctx, fake).user_id_of("sam.okafor@example.com")


def test_someone_slack_will_not_name_is_told_and_nothing_changes(world: SlackWorld) -> None:
    """Nothing changes but the audit event that keeps the refused attempt on the record."""
    world.fake.users.pop("U0DANA")
    before = row_counts(world.ctx)
    name = world.command("U0DANA", "promise C200 300 fri")
    world.settle()
    [answer] = world.answers(name)
    assert "can't see your email address" in answer["text"] and answer["response_type"] == "ephemeral"
    assert row_counts(world.ctx) == {**before, "audit_events": before["audit_events"] + 1}


def test_someone_not_on_the_team_is_told_and_nothing_changes(world: SlackWorld) -> None:
    world.fake.users["U0GUEST"] = "guest@elsewhere.example"
    before = row_counts(world.ctx)
    name = world.command("U0GUEST", "promise C200 300 fri")
    world.settle()
    [answer] = world.answers(name)
    assert "guest@elsewhere.example" in answer["text"] and "not on the Ridgeview Collections team" in answer["text"]
    assert row_counts(world.ctx) == {
        **before,
        "chat_identities": before["chat_identities"] + 1,
        "audit_events": before["audit_events"] + 1,
    }
