"""Requests whose credentials are missing or malformed, over real HTTP to the real server: a
Slack request without a usable timestamp or signature, a Teams activity with no token or one
that is not a JWT. Each is refused with 401 and a short JSON answer, logged on one line without a
traceback, and leaves the database, the runtime and the chat platforms untouched."""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request

import aiohttp
import jwt
import pytest

from bot.teams.settings import TeamsSettings
from commands.context import AppContext
from tests.support.slack import SlackWorld, sign
from tests.support.slack_requests import assert_no_effect, promise_body
from tests.support.teams_http import APP_ID, FakeConnector, activity, bot_and_teams, run
from tests.support.world import row_counts

FORM = "application/x-www-form-urlencoded"


def post_raw(world: SlackWorld, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """A POST to /slack/events with exactly these headers (none added), each value sent as UTF-8."""
    request = urllib.request.Request(world.url + "/slack/events", data=body, method="POST")
    for name, value in headers.items():
        request.add_header(name, value.encode())  # type: ignore[arg-type]  # bytes go out as they are
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def assert_refused_quietly(caplog: pytest.LogCaptureFixture, logger: str) -> None:
    """One refusal line from ``logger`` at INFO or WARNING, no traceback anywhere, nothing at ERROR."""
    refusals = [r for r in caplog.records if r.name == logger and "refused" in r.getMessage()]
    assert len(refusals) == 1, [r.getMessage() for r in caplog.records]
    assert refusals[0].levelno in (logging.INFO, logging.WARNING)
    assert [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR] == []


# -- Slack ---------------------------------------------------------------------------------------


def slack_headers(**headers: str) -> dict[str, str]:
    return {"Content-Type": FORM, **headers}


@pytest.mark.parametrize(
    "timestamp",
    [
        "yesterday",
        "1.7e9",
        "",
        " ",
        "-1",
        "١٧٦٣٩١٠٤٠٠",
        "99999999999999999999999",
        pytest.param("1" * 5000, id="5000-digits"),
    ],
)
def test_a_slack_timestamp_that_is_not_a_time_is_refused(
    world: SlackWorld, caplog: pytest.LogCaptureFixture, timestamp: str
) -> None:
    caplog.set_level(logging.INFO)
    before = row_counts(world.ctx)
    body = promise_body(world)
    signature = "v0=" + sign(body, 0).removeprefix("v0=").replace("a", "b")
    status, answer = post_raw(
        world, body.encode(), slack_headers(**{"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature})
    )
    assert status == 401
    assert json.loads(answer) == {"error": "invalid request"}
    assert_no_effect(world, before)
    assert_refused_quietly(caplog, "bot.slack.app")


def test_a_slack_request_without_a_timestamp_is_refused(world: SlackWorld, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    before = row_counts(world.ctx)
    body = promise_body(world)
    status, _ = post_raw(world, body.encode(), slack_headers(**{"X-Slack-Signature": sign(body, int(time.time()))}))
    assert status == 401
    assert_no_effect(world, before)
    assert_refused_quietly(caplog, "bot.slack.app")


@pytest.mark.parametrize("signature", [None, "", "v0=", "v0=é", "sha256=abc"])
def test_a_slack_request_without_a_valid_signature_is_refused(
    world: SlackWorld, caplog: pytest.LogCaptureFixture, signature: str | None
) -> None:
    caplog.set_level(logging.INFO)
    before = row_counts(world.ctx)
    headers = slack_headers(**{"X-Slack-Request-Timestamp": str(int(time.time()))})
    if signature is not None:
        headers["X-Slack-Signature"] = signature
    status, _ = post_raw(world, promise_body(world).encode(), headers)
    assert status == 401
    assert_no_effect(world, before)
    assert_refused_quietly(caplog, "bot.slack.app")


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe\x00garbage", b'{"type": "event_callback"'])
def test_an_unsigned_body_that_is_not_even_json_is_refused_before_it_is_read(
    world: SlackWorld, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    caplog.set_level(logging.INFO)
    before = row_counts(world.ctx)
    status, _ = post_raw(
        world,
        body,
        {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": str(int(time.time())),
            "X-Slack-Signature": "v0=" + "0" * 64,
        },
    )
    assert status == 401
    assert_no_effect(world, before)
    assert_refused_quietly(caplog, "bot.slack.app")


def test_a_signed_body_that_is_not_json_is_a_bad_request_not_a_crash(
    world: SlackWorld, caplog: pytest.LogCaptureFixture
) -> None:
    """Only someone holding the signing secret can send this; it is still answered, not a 500."""
    caplog.set_level(logging.INFO)
    before = row_counts(world.ctx)
    status, _ = world.post("{not json", "application/json")
    assert status == 400
    assert_no_effect(world, before)
    assert [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR] == []


def test_a_well_signed_request_still_goes_through_the_gate(world: SlackWorld) -> None:
    status, _ = world.post(promise_body(world), FORM)
    assert status == 200
    world.settle()
    assert world.answers("sec")[0]["text"] == "Promise recorded for Acme Ortho (C200)"


# -- Teams ---------------------------------------------------------------------------------------

AUTH_ON = TeamsSettings(app_id=APP_ID, app_password="secret")


def unknown_issuer_token() -> str:
    """A well-formed JWT nobody Teams trusts issued (refused without fetching any signing keys)."""
    return jwt.encode(
        {"iss": "https://issuer.invalid/", "aud": APP_ID, "exp": int(time.time()) + 600},
        "not-the-key-" * 4,
        algorithm="HS256",
    )


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer not-a-jwt",
        "Bearer a.b.c",
        "Bearer eyJhbGciOiJSUzI1NiJ9.e30.",
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "not-a-jwt",
        None,
        "unknown issuer",
    ],
)
def test_a_teams_activity_without_a_valid_token_is_refused(
    ctx: AppContext, caplog: pytest.LogCaptureFixture, authorization: str | None
) -> None:
    caplog.set_level(logging.INFO)
    before = row_counts(ctx)
    connector = FakeConnector()
    if authorization == "unknown issuer":
        authorization = "Bearer " + unknown_issuer_token()

    async def scenario() -> None:
        async with bot_and_teams(ctx, connector, AUTH_ON) as (bot, teams, _), aiohttp.ClientSession() as http:
            headers = {} if authorization is None else {"Authorization": authorization}
            response = await http.post(
                bot + "/api/messages", json=activity(teams, text="promise C200 300 fri"), headers=headers
            )
            assert response.status == 401
            assert response.content_type == "application/json"
            assert (await response.json()) == {"error": "unauthorized"}

    run(scenario)
    assert (connector.attempts, connector.sent, connector.member_lookups) == (0, [], 0)
    assert row_counts(ctx) == before
    assert_refused_quietly(caplog, "bot.teams.web")
