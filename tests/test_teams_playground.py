"""End to end against a real Teams client: the Microsoft 365 Agents Playground (npm
``@microsoft/m365agentsplayground`` 0.2.28, offline), pointed at the bot served in-process in
dev mode. The test drives the playground through the HTTP API its own web page uses and reads
the bot's messages from its WebSocket stream, as the page does.

Its tenant (tests/fixtures/teams/playground.yml) holds the people of tests/fixtures/teams/team.toml
and a team whose channels are General and Approvals. ``.ci/install-playground.sh`` installs it;
the test installs it itself when npm is there, and is skipped only when npm is not."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.delivery import DeliveryService
from bot.teams.settings import TeamsSettings
from bot.teams.web import TEAMS_APP, add_routes
from commands.context import AppContext
from commands.messages import Reply, Where
from commands.team import load_team, sync_members
from tests.support.teams_http import serve

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "teams"
PLAYGROUND_DIR = Path(os.environ.get("ARBOT_PLAYGROUND_DIR", ROOT / ".cache" / "playground"))
CLI = PLAYGROUND_DIR / "node_modules" / "@microsoft" / "m365agentsplayground" / "cli.js"
BOT_ID = "00000000-0000-0000-0000-00000000000011"
PERSONAL, TEAM, APPROVALS = "personal-chat-dana", "team-ridgeview", "channel-approvals"
DANA, MARIA = "user-id-dana", "user-id-maria"


def _installed() -> Path:
    if not CLI.exists():
        if shutil.which("npm") is None or shutil.which("node") is None:
            pytest.skip("npm/node not found: cannot install the Microsoft 365 Agents Playground")
        subprocess.run(
            ["bash", str(ROOT / ".ci" / "install-playground.sh")],
            check=True,
            timeout=600,
            env={**os.environ, "ARBOT_PLAYGROUND_DIR": str(PLAYGROUND_DIR)},
        )
    return CLI


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _title(message: dict[str, Any]) -> str:
    attachments = message.get("attachments") or []
    if attachments and isinstance(attachments[0].get("content"), dict):
        return attachments[0]["content"]["body"][0]["text"]
    return message.get("text", "")


@dataclass
class Playground:
    """The running playground: its HTTP API, and every message event its WebSocket streamed."""

    url: str
    http: aiohttp.ClientSession
    events: list[dict[str, Any]] = field(default_factory=list)

    async def wait_for(self, what: str, match: Callable[[dict[str, Any]], bool], timeout: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = next((e for e in self.events if match(e)), None)
            if found is not None:
                return found
            await asyncio.sleep(0.05)
        seen = [(e.get("action"), e.get("actionConversationId"), _title(e.get("message", {}))) for e in self.events]
        raise AssertionError(f"the playground never showed {what}; it showed {seen}")

    def message(self, what: str, conversation: str, title: Callable[[str], bool], action: str = "createMessage") -> Any:
        return self.wait_for(
            what,
            lambda e: (
                e.get("action") == action
                and e.get("actionConversationId") == conversation
                and title(_title(e.get("message", {})))
            ),
        )

    async def say(self, conversation: str, user: str, text: str, *, mention: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {"from": {"id": user}, "text": text, "textFormat": "plain"}
        if mention:
            body["text"] = f"<at>arbot</at> {text}"
            body["mentions"] = [{"mentioned": {"id": BOT_ID}, "text": "<at>arbot</at>"}]
        response = await self.http.post(f"{self.url}/_conversation/v1/conversations/{conversation}/messages", json=body)
        assert response.status == 200, await response.text()
        return await response.json()


@asynccontextmanager
async def playground_for(bot_url: str, tmp_path: Path) -> AsyncIterator[Playground]:
    port = _free_port()
    env = {
        **os.environ,
        "TEAMSAPPTESTER_BROWSER": "none",
        "M365_AGENTS_PLAYGROUND_CONFIG_PATH": str(FIXTURES / "playground.yml"),
        "M365_AGENTS_PLAYGROUND_LOGFILE": str(tmp_path / "playground.log"),
    }
    log = (tmp_path / "playground.out").open("w")
    process = subprocess.Popen(
        [
            "node",
            str(_installed()),
            "--app-endpoint",
            f"{bot_url}/api/messages",
            "--channel-id",
            "msteams",
            "--port",
            str(port),
            "--disable-telemetry",
        ],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            await _until_ready(http, url, process, tmp_path)
            playground = Playground(url=url, http=http)
            socket_ = await http.ws_connect(url.replace("http", "ws") + "/_ws_conversation/v1/conversations/stream")
            reader = asyncio.create_task(_read(socket_, playground.events))
            try:
                yield playground
            finally:
                reader.cancel()
                await socket_.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


async def _until_ready(http: aiohttp.ClientSession, url: str, process: subprocess.Popen, tmp_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError("the playground exited: " + (tmp_path / "playground.out").read_text())
        try:
            async with http.get(f"{url}/_debug/ping") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError("the playground did not answer /_debug/ping within 60 s")


async def _read(socket_: aiohttp.ClientWebSocketResponse, events: list[dict[str, Any]]) -> None:
    async for message in socket_:
        if message.type == aiohttp.WSMsgType.TEXT:
            events.append(json.loads(message.data))


def _playground_ctx(ctx: AppContext) -> AppContext:
    team = load_team(FIXTURES / "team.toml")
    with ctx.sessions.begin() as session:
        sync_members(session, team)
    return replace(ctx, team=team, platforms=("teams",))


async def _until(check: Callable[[], bool], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await asyncio.to_thread(check):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_day_in_teams_through_the_agents_playground(ctx: AppContext, tmp_path: Path) -> None:
    """Dana asks in her personal chat, Maria @mentions the bot in the channel, Dana's hold request
    lands proactively in #approvals, Maria's Approve (Action.Execute) redraws the card, and a
    scheduled post reaches the channel."""
    from tests.support.world import seed_world

    _installed()
    tctx = _playground_ctx(ctx)
    seed_world(tctx)

    async def day() -> None:
        app = web.Application()
        add_routes(app, tctx, TeamsSettings(dev=True))
        teams = app[TEAMS_APP]
        delivery = DeliveryService(tctx, {"teams": teams.messenger}, poll_seconds=0.05)  # as arbot serve runs it
        tctx.on_enqueued = delivery.kick
        app.cleanup_ctx.append(delivery.cleanup_context)
        async with serve(app) as bot_url, playground_for(bot_url, tmp_path) as pg:
            for conversation in (PERSONAL, TEAM):
                response = await pg.http.post(f"{pg.url}/_debug/conversation/{conversation}/installation", json={})
                assert response.status == 200
            from bot.teams import references

            await _until(
                lambda: all(
                    references.load(tctx.sessions, key) for key in ("dm:dana.reyes@example.com", "general", "approvals")
                ),
                "the install to be stored",
            )

            await pg.say(PERSONAL, DANA, "status acme dental")
            status = await pg.message("Dana's status card", PERSONAL, lambda t: t == "Acme Dental Group (C100)")
            facts = status["message"]["attachments"][0]["content"]["body"][2]["facts"]
            assert {"title": "Balance", "value": "$3,350.10"} in facts

            # The playground speaks as its current user, Dana: an answer with balances asked for in a
            # channel goes to her personal chat, and the channel thread only says where it went.
            posted = await pg.say(TEAM, DANA, "status summit", mention=True)
            thread = posted["postConversationId"]
            await pg.message("the answer in Dana's personal chat", PERSONAL, lambda t: t.startswith("Summit Ortho"))
            note = await pg.message(
                "the note in the channel thread", thread, lambda t: t.endswith("I sent you the answer in our chat.")
            )
            assert "Summit" not in _title(note["message"])

            await pg.say(PERSONAL, DANA, "hold acme ortho final invoice 120 days past due")
            card_event = await pg.message(
                "the approval card in #approvals", APPROVALS, lambda t: t == "Approval needed: hold on Acme Ortho"
            )
            await pg.message("Dana's acknowledgement", PERSONAL, lambda t: t.startswith("Approval requested"))
            card = card_event["message"]
            approve = next(a for a in card["attachments"][0]["content"]["actions"] if a["title"] == "Approve")
            assert approve["type"] == "Action.Execute"
            click = {
                "name": "adaptiveCard/action",
                "from": {"id": MARIA},
                "replyToId": card["messageId"],
                "conversation": {"id": f"{APPROVALS};messageid={card['messageId']}"},
                "value": {
                    "action": {"type": "Action.Execute", "verb": approve["verb"], "data": approve["data"]},
                    "trigger": "manual",
                },
            }
            response = await pg.http.post(f"{pg.url}/_conversation/v1/invoke", json=click)
            assert response.status == 200, await response.text()
            answer = await response.json()
            assert answer["type"] == "application/vnd.microsoft.card.adaptive"
            assert answer["value"]["body"][0]["text"] == "Approved: hold on Acme Ortho"
            updated = await pg.message(
                "the card redrawn for everyone",
                APPROVALS,
                lambda t: t == "Approved: hold on Acme Ortho",
                action="updateMessage",
            )
            assert updated["message"]["messageId"] == card["messageId"]
            assert "actions" not in updated["message"]["attachments"][0]["content"]
            await pg.message("the hold announced in General", TEAM, lambda t: t.startswith("Hold placed on Acme Ortho"))
            await pg.message("Dana told", PERSONAL, lambda t: t == "Approved: hold on Acme Ortho (request #1)")

            summary = Reply(title="Collections summary for Mon 23 Nov 2026", text="3 accounts need a call today.")
            await asyncio.to_thread(teams.messenger.post, Where("general"), summary)
            await pg.message("the scheduled post in General", TEAM, lambda t: t == summary.title)

    asyncio.run(day())
