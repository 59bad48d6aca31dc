"""Files on Slack, through the real server against the fake Web API: the weekly digest's chart is
uploaded after its message in the collections channel (files.getUploadURLExternal, the upload,
files.completeUploadExternal), and a workbook asked for with a slash command reaches only the
asker, in their direct messages, while the ephemeral answer says what it is."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from commands.outbox import enqueue
from scheduler.jobs import weekly_digest
from tests.support.slack import SlackWorld, text_of


def test_the_weekly_digest_chart_is_uploaded_after_its_message(world: SlackWorld) -> None:
    with world.ctx.sessions.begin() as session:
        enqueue(session, world.ctx, weekly_digest(world.ctx, session).replies)
    world.settle()
    [digest] = world.posts("CCOLLECTIONS")
    assert text_of(digest.params).startswith("Weekly digest")
    [chart] = world.fake.files["CCOLLECTIONS"]
    assert chart["name"].startswith("aging-") and chart["data"].startswith(b"\x89PNG")
    assert chart["title"] == "Receivables by age, last 12 weeks"
    assert [c.method for c in world.fake.calls if c.method.startswith(("files.", "upload"))] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]


def test_a_failed_upload_is_retried_without_posting_the_message_again(world: SlackWorld) -> None:
    world.fake.fail_next("files.completeUploadExternal", 500)
    with world.ctx.sessions.begin() as session:
        enqueue(session, world.ctx, weekly_digest(world.ctx, session).replies)
    world.settle()
    world.ctx.clock.advance(seconds=120)
    world.settle()
    assert len(world.posts("CCOLLECTIONS")) == 1
    assert len(world.fake.files["CCOLLECTIONS"]) == 1


def test_the_weekly_workbook_goes_to_the_askers_direct_messages(world: SlackWorld) -> None:
    name = world.command("U0MARIA", "report weekly xlsx", channel="CCOLLECTIONS")
    world.settle()
    [answer] = world.answers(name)
    assert answer["response_type"] == "ephemeral" and "Weekly workbook" in answer["text"]
    assert "CCOLLECTIONS" not in world.fake.files  # nothing in the channel
    [book] = world.fake.files["D0MARIA"]
    assert book["name"].startswith("weekly-") and book["name"].endswith(".xlsx")
    assert load_workbook(io.BytesIO(book["data"])).sheetnames[0] == "KPIs"
