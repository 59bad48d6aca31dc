"""`arbot serve`'s server: the health check, which Slack mode the settings give, Slack's
endpoint check (url_verification) answered, and the scheduler running inside the server,
posting the morning lists through Slack."""

from __future__ import annotations

import argparse
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp import web

from bot import cli_serve
from bot.server import MOUNTED, ServerSettings, build_web_app, with_scheduler
from bot.slack.settings import SlackSettings
from commands.context import AppContext
from storage.db import make_engine, make_session_factory
from tests.support.slack import SECRET, FakeSlack, LoopThread, SlackWorld, seed, text_of


@contextmanager
def serving(loop: LoopThread, app: web.Application) -> Iterator[str]:
    runner = web.AppRunner(app, access_log=None)
    loop.run(runner.setup())
    loop.run(web.TCPSite(runner, "127.0.0.1", 0).start())
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        loop.run(runner.cleanup())


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        body = exc.read()
        return exc.code, (json.loads(body) if body.startswith(b"{") else {})


def test_health_says_the_database_answers_and_how_slack_runs(world: SlackWorld) -> None:
    assert get(world.url + "/healthz") == (200, {"ok": True, "database": "reachable", "slack": "http", "teams": "off"})


def test_without_slack_settings_slack_is_off_and_not_mounted(ctx: AppContext) -> None:
    loop = LoopThread()
    try:
        app = build_web_app(ctx, ServerSettings())
        assert ctx.platforms == ("terminal",) and not app.cleanup_ctx, "nobody to post to: no dispatcher"
        with serving(loop, app) as url:
            assert get(url + "/healthz") == (200, {"ok": True, "database": "reachable", "slack": "off", "teams": "off"})
            request = urllib.request.Request(url + "/slack/events", data=b"{}", method="POST")
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=10)
            assert refused.value.code == 404
    finally:
        loop.close()


def test_health_fails_when_the_database_does_not_answer(ctx: AppContext, tmp_path: Path) -> None:
    gone = make_engine(f"sqlite:///{tmp_path / 'missing' / 'nowhere.db'}")
    broken = replace(ctx, sessions=make_session_factory(gone))
    loop = LoopThread()
    try:
        with serving(loop, build_web_app(broken, ServerSettings())) as url:
            assert get(url + "/healthz") == (
                503,
                {"ok": False, "database": "unreachable", "slack": "off", "teams": "off"},
            )
    finally:
        loop.close()


def test_with_an_app_token_slack_runs_over_socket_mode(ctx: AppContext) -> None:
    settings = ServerSettings(slack=SlackSettings(bot_token="xoxb-t", app_token="xapp-1-t"))
    app = build_web_app(ctx, settings)
    assert app[MOUNTED]["slack"].mode == "socket"
    assert app[MOUNTED]["slack"].messenger is not None
    assert not [r for r in app.router.routes() if r.resource and r.resource.canonical == "/slack/events"]
    assert len(app.cleanup_ctx) == 2, "the Socket Mode connection and the outbox's dispatcher live with the server"


def test_slack_settings_say_what_is_missing() -> None:
    assert SlackSettings.from_env({}).mode == "off"
    http = SlackSettings.from_env(
        {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": "http://127.0.0.1:9/api"}
    )
    assert (http.mode, http.api_url, http.problem()) == ("http", "http://127.0.0.1:9/api/", None)
    assert "SLACK_SIGNING_SECRET" in (SlackSettings(bot_token="xoxb-1").problem() or "")
    assert "SLACK_BOT_TOKEN" in (SlackSettings(signing_secret="s").problem() or "")
    assert "xapp-" in (SlackSettings(bot_token="xoxb-1", app_token="xoxb-2").problem() or "")


def test_serve_refuses_half_configured_slack(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.delenv("SLACK_SIGNING_SECRET", raising=False)
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    assert cli_serve.run(ctx, argparse.Namespace(host=None, port=None, dev=False)) == 2
    assert "neither SLACK_SIGNING_SECRET" in capsys.readouterr().err


def test_the_banner_says_where_slack_is_served() -> None:
    settings = ServerSettings(port=4000, slack=SlackSettings(bot_token="x", signing_secret="s"))
    assert "Slack requests at http://127.0.0.1:4000/slack/events" in cli_serve.banner(settings)
    assert "scheduler off (--dev)" in cli_serve.banner(replace(settings, dev=True))


def test_slacks_endpoint_check_is_answered(world: SlackWorld) -> None:
    body = json.dumps(
        {"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"}
    )
    status, answer = world.post(body, "application/json")
    assert status == 200
    assert json.loads(answer) == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


def test_the_scheduler_in_the_server_posts_the_morning_list_through_slack(ctx: AppContext) -> None:
    """Monday 09:00 in Chicago, the 08:00 list not posted yet: the first tick, right at start,
    catches up and Dana's list reaches her direct messages."""
    seed(ctx)
    loop, fake = LoopThread(), FakeSlack()
    try:
        loop.run(fake.start())
        settings = ServerSettings(slack=SlackSettings(bot_token="xoxb-t", signing_secret=SECRET, api_url=fake.api_url))
        app = build_web_app(ctx, settings)
        with_scheduler(app, ctx)
        with serving(loop, app):
            [dm] = fake.wait_for(lambda f: [c for c in f.made("chat.postMessage") if c.answer["channel"] == "D0DANA"])
            assert text_of(dm.params).startswith("Your call list for Mon 23 Nov")
            fake.wait_for(lambda f: [c for c in f.made("chat.postMessage") if c.answer["channel"] == "CCOLLECTIONS"])
    finally:
        loop.run(fake.stop())
        loop.close()


def test_the_acknowledgement_leaves_before_the_request_is_taken_in(world: SlackWorld) -> None:
    """Slack waits for the acknowledgement; the backlog, a busy notice and waking a worker come
    after it. Held here: the backlog cannot be consulted (its lock is taken), and the command is
    acknowledged all the same; once it can, the command is answered as usual."""
    backlog_lock = world.runtime.chat.backlog._lock
    with backlog_lock:  # the event loop stops at the backlog when it takes the request in
        asked = world.command("U0DANA", "help")  # asserts the 200, read within urlopen's 10 s
        assert world.answers(asked) == [], "nothing can be answered before the request is taken in"
    world.settle()
    [answer] = world.answers(asked)
    assert "promise" in text_of(answer), "the help text, which names the commands"
