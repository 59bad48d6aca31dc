"""What the Slack tests talk to: a fake Slack Web API that records every call and answers like
Slack, the real arbot server on a real port, and requests signed exactly as Slack signs them.

Both servers run on one event loop in a background thread; a test is plain synchronous code
that sends a request and then waits for the background work it started to finish
(:meth:`SlackWorld.settle`), so nothing depends on a fixed sleep.

    world.command("U0DANA", "promise C200 300 fri")      # /ar promise C200 300 fri
    card = world.last_post("CFINANCE")
    world.click("U0PRIYA", card, "Confirm")

The fake's own test is tests/test_slack_fake.py."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from sqlalchemy import select

from bot.server import DELIVERY, MOUNTED, ServerSettings, build_web_app
from bot.slack.front_process import FrontProcess
from bot.slack.settings import SlackSettings
from commands.context import AppContext
from storage.models import Customer, Invoice, InvoiceKind, TeamMember

FIXTURES = Path(__file__).parent.parent / "fixtures" / "slack"


SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


BOT_USER = "U0ARBOT"


T = TypeVar("T")


# Slack user id -> email, for the example team.
USERS = {
    "U0DANA": "dana.reyes@example.com",
    "U0SAM": "sam.okafor@example.com",
    "U0PRIYA": "priya.shah@example.com",
    "U0TOM": "tom.becker@example.com",
    "U0MARIA": "maria.lopez@example.com",
    "U0CHRIS": "chris.wong@example.com",
    "U0ALEX": "alex.kim@example.com",
    "U0JO": "jo.park@example.com",
}


# The channels the example team file names, as the example workspace has them.
WORKSPACE_CHANNELS = (
    "collections",
    "arbot-admins",
    "finance",
    "approvals",
    "client-services",
    "sales",
    "scheduling",
    "support",
)


NASTY_NAME = "<!channel> *Bold* _Co_ <@U0ALEX>"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    status: int
    answer: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


Fault = int | str  # an HTTP status, or "timeout" / "drop" / "lost" (see FakeSlack)


@dataclass
class FakeSlack:
    """Answers the Web API methods arbot uses the way Slack does, and records every call.

    It keeps what was posted, per conversation (with message metadata), and serves it back
    through ``conversations.history`` / ``conversations.replies`` / ``conversations.list``.

    Faults, on request: ``fail_next(method, fault)`` makes the next call(s) of a method fail.
    A fault is an HTTP status (429 carries ``Retry-After: 1``, or ``retry_after``), or
    ``"timeout"`` (Slack posts, then answers later than the client waits), ``"drop"`` (the
    connection closes before Slack did anything) or ``"lost"`` (Slack posts, then the
    connection closes before the answer). ``refuse(method, target, error)`` answers that error
    (HTTP 200, ``ok: false``, as Slack does) to every call of a method about one channel, user
    or email (target ``""``: every call of the method). ``chaos`` (method -> fault or None) is
    asked about every call that has no fault queued: a seeded random one makes a flaky Slack
    that replays exactly. ``clock`` makes
    message timestamps follow a test's clock (``oldest`` filters then mean what they say)."""

    users: dict[str, str] = field(default_factory=lambda: dict(USERS))
    calls: list[Call] = field(default_factory=list)
    url: str = ""
    clock: Callable[[], datetime] | None = None
    chaos: Callable[[str], Fault | None] | None = None
    retry_after: str = "1"
    hang_seconds: float = 1.0  # how late a "timeout" answers
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # channel id -> posted, in order
    channel_names: dict[str, str] = field(  # the workspace's channels: id -> name
        default_factory=lambda: {channel_id(name): name for name in WORKSPACE_CHANNELS}
    )
    files: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # channel id -> files shared there
    _uploads: dict[str, dict[str, Any]] = field(default_factory=dict)  # file id -> name, length, bytes
    _failures: dict[str, list[Fault]] = field(default_factory=dict)
    _refusals: dict[tuple[str, str], str] = field(default_factory=dict)
    _ts: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _last_ts: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _runner: web.AppRunner | None = None
    _closing: asyncio.Event | None = None

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, name: str) -> str:
        return f"{self.url}/respond/{name}"

    async def start(self) -> None:
        self._closing = asyncio.Event()
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/respond/{name}", self._respond)
        app.router.add_post("/upload/{file_id}", self._upload)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"

    async def stop(self) -> None:
        if self._closing is not None:
            self._closing.set()  # held answers end now, not after hang_seconds
        if self._runner is not None:
            await self._runner.cleanup()

    def fail_next(self, method: str, status: Fault, times: int = 1, *, target: str | None = None) -> None:
        """The next ``times`` calls of ``method`` (about ``target`` only, when given: a
        channel id or name, a user id, an email) fail with ``status``."""
        with self._lock:
            self._failures.setdefault(f"{method}|{target or ''}", []).extend([status] * times)

    def refuse(self, method: str, target: str, error: str) -> None:
        """Every ``method`` call about ``target`` (a channel id or name, a user id, an email)
        answers ``error``, until :meth:`accept`."""
        with self._lock:
            self._refusals[(method, target)] = error

    def accept(self, method: str, target: str) -> None:
        with self._lock:
            self._refusals.pop((method, target), None)

    def made(self, method: str | None = None, *, status: int | None = 200) -> list[Call]:
        with self._lock:
            return [
                c
                for c in self.calls
                if (method is None or c.method == method) and (status is None or c.status == status)
            ]

    def posted(self, channel: str | None = None) -> list[dict[str, Any]]:
        """What people see: every message in a conversation (or in all), in order."""
        with self._lock:
            chosen = [channel] if channel is not None else list(self.messages)
            return [m for c in chosen for m in self.messages.get(c, [])]

    def wait_for(self, check: Callable[[FakeSlack], T], timeout: float = 10) -> T:
        """Poll until ``check`` returns something truthy (for work no drain can see)."""
        deadline = time.monotonic() + timeout
        while True:
            result = check(self)
            if result or time.monotonic() > deadline:
                assert result, "timed out waiting for the fake Slack to see the expected calls"
                return result
            time.sleep(0.02)

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params = await _params(request)
        fault = self._fault(method, _targets(params))
        if fault == "drop":
            self._record(Call(method, params, 0, {"dropped": True}))
            return _dropped(request)
        if isinstance(fault, int) and fault != 200:  # 200: this call goes through (then the next fault)
            headers = {"Retry-After": self.retry_after} if fault == 429 else {}
            answer = {"ok": False, "error": "ratelimited" if fault == 429 else "internal_error"}
            self._record(Call(method, params, fault, answer))
            return web.json_response(answer, status=fault, headers=headers)
        answer = self._refusal(method, params) or self._answer(method, params)
        self._record(Call(method, params, 200, answer))
        if fault == "lost":
            return _dropped(request)
        if fault == "timeout":
            assert self._closing is not None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), self.hang_seconds)
        return web.json_response(answer)

    def _fault(self, method: str, targets: list[str]) -> Fault | None:
        with self._lock:
            for target in [*targets, ""]:
                failures = self._failures.get(f"{method}|{target}")
                if failures:
                    return failures.pop(0)
        return self.chaos(method) if self.chaos is not None else None

    def _refusal(self, method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        targets = [*_targets(params), ""]  # "": every call of the method
        with self._lock:
            error = next((self._refusals[(method, t)] for t in targets if (method, t) in self._refusals), None)
        return None if error is None else {"ok": False, "error": error}

    async def _respond(self, request: web.Request) -> web.Response:
        params = await request.json()
        self._record(Call("response_url", {**params, "name": request.match_info["name"]}, 200, {"ok": True}))
        return web.Response(text="ok")

    async def _upload(self, request: web.Request) -> web.Response:
        """The upload URL files.getUploadURLExternal handed out: takes the file's bytes."""
        file_id, data = request.match_info["file_id"], await request.read()
        with self._lock:
            pending = self._uploads.get(file_id)
            if pending is None or len(data) != pending["length"]:
                return web.Response(status=400, text="bad upload")
            pending["data"] = data
        self._record(Call("upload", {"file_id": file_id, "bytes": len(data)}, 200, {"ok": True}))
        return web.Response(text=f"OK - {len(data)}")

    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def _next_ts(self) -> str:
        """A message's ts, as Slack's: the moment it was posted (the test's clock, else the
        wall clock), unique within the workspace. A retry's history search starts from when
        its entry was queued, so timestamps from any other time would hide what landed."""
        now = self.clock().timestamp() if self.clock is not None else time.time()
        with self._lock:
            self._last_ts = max(now, self._last_ts + 0.000001)
            return f"{self._last_ts:.6f}"

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://ridgeview.slack.com/",
                "team": "Ridgeview",
                "user": "arbot",
                "team_id": "T0RIDGE",
                "user_id": BOT_USER,
                "bot_id": "B0ARBOT",
                "is_enterprise_install": False,
            }
        if method == "chat.postMessage":
            return self._post(params)
        if method == "chat.update":
            return self._update(params)
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "users.info":
            user = str(params.get("user"))
            return self._user(user) if user in self.users else {"ok": False, "error": "user_not_found"}
        if method == "users.lookupByEmail":
            found = [uid for uid, email in self.users.items() if email == params.get("email")]
            return self._user(found[0]) if found else {"ok": False, "error": "users_not_found"}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(params.get("users", "")).removeprefix("U")}}
        if method in ("views.open", "views.publish"):
            return {"ok": True, "view": {"id": f"V{next(self._ts)}", **params.get("view", {})}}
        if method == "conversations.history":
            return self._history(params)
        if method == "conversations.replies":
            return self._replies(params)
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts):06d}"
            with self._lock:
                self._uploads[file_id] = {"name": params.get("filename"), "length": int(params.get("length", -1))}
            return {"ok": True, "file_id": file_id, "upload_url": f"{self.url}/upload/{file_id}"}
        if method == "files.completeUploadExternal":
            return self._share(params)
        if method == "conversations.list":
            with self._lock:
                channels = [{"id": cid, "name": name} for cid, name in self.channel_names.items()]
            return {"ok": True, "channels": channels, "response_metadata": {"next_cursor": ""}}
        return {"ok": False, "error": "unknown_method"}

    def _share(self, params: dict[str, Any]) -> dict[str, Any]:
        """files.completeUploadExternal: the uploaded files appear in the channel (or thread)."""
        listed = params.get("files")
        wanted = json.loads(listed) if isinstance(listed, str) else listed or []
        channel = channel_id(str(params.get("channel_id", "")))
        shared = []
        with self._lock:
            for item in wanted:
                upload = self._uploads.get(item.get("id"))
                if upload is None or "data" not in upload:
                    return {"ok": False, "error": "file_not_found"}
                shared.append(
                    {
                        "id": item["id"],
                        "title": item.get("title"),
                        "name": upload["name"],
                        "data": upload["data"],
                        "thread_ts": params.get("thread_ts"),
                    }
                )
            self.files.setdefault(channel, []).extend(shared)
        return {"ok": True, "files": [{"id": f["id"], "title": f["title"], "name": f["name"]} for f in shared]}

    def _post(self, params: dict[str, Any]) -> dict[str, Any]:
        given = str(params.get("channel", ""))
        channel, ts = channel_id(given), self._next_ts()
        message = {
            "type": "message",
            "ts": ts,
            "bot_id": "B0ARBOT",
            "text": params.get("text"),
            "blocks": params.get("blocks"),
        }
        if params.get("thread_ts"):
            message["thread_ts"] = str(params["thread_ts"])
        if isinstance(params.get("metadata"), dict):
            message["metadata"] = params["metadata"]
        with self._lock:
            self.messages.setdefault(channel, []).append(message)
            if channel[0] in "CG":
                self.channel_names.setdefault(channel, given.removeprefix("#") if given != channel else channel.lower())
        shown = {k: v for k, v in message.items() if k != "metadata"}
        return {"ok": True, "channel": channel, "ts": ts, "message": shown}

    def _update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = channel_id(str(params.get("channel", ""))), str(params.get("ts"))
        with self._lock:
            found = next((m for m in self.messages.get(channel, []) if m["ts"] == ts), None)
            if found is not None:
                found.update(text=params.get("text"), blocks=params.get("blocks"), edited=True)
        # Messages posted before this fake kept them (or by hand in a test) are updated blind.
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "message": {"text": params.get("text"), "blocks": params.get("blocks"), "ts": ts},
        }

    def _history(self, params: dict[str, Any]) -> dict[str, Any]:
        """Top-level messages (and thread parents), newest first, as conversations.history."""
        channel = str(params.get("channel", ""))
        with self._lock:
            known = channel in self.messages or channel in self.channel_names
            found = [m for m in self.messages.get(channel, []) if m.get("thread_ts") in (None, m["ts"])]
        if not known and not channel.startswith("D"):
            return {"ok": False, "error": "channel_not_found"}
        return _page(list(reversed(found)), params)

    def _replies(self, params: dict[str, Any]) -> dict[str, Any]:
        """A thread, parent first, oldest first, as conversations.replies."""
        channel, parent = str(params.get("channel", "")), str(params.get("ts", ""))
        with self._lock:
            found = [m for m in self.messages.get(channel, []) if m["ts"] == parent or m.get("thread_ts") == parent]
        if not found:
            return {"ok": False, "error": "thread_not_found"}
        return _page(found, params)

    def _user(self, user_id: str) -> dict[str, Any]:
        return {"ok": True, "user": {"id": user_id, "name": user_id.lower(), "profile": {"email": self.users[user_id]}}}


def _targets(params: dict[str, Any]) -> list[str]:
    """What a call is about: its channel (as given and as an id), user or email."""
    given = [str(params[k]) for k in ("channel", "channel_id", "users", "user", "email") if params.get(k)]
    return given + [channel_id(t) for t in given if "@" not in t]


def _page(messages: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    """One page of ``messages`` newer than ``oldest``, by ``limit`` and ``cursor``; metadata
    only with ``include_all_metadata``, as Slack."""
    oldest = float(params.get("oldest") or 0)
    kept = [m for m in messages if float(m["ts"]) > oldest]
    start = int(params.get("cursor") or 0)
    limit = int(params.get("limit") or 100)
    metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
    page = [m if metadata else {k: v for k, v in m.items() if k != "metadata"} for m in kept[start : start + limit]]
    more = start + limit < len(kept)
    return {
        "ok": True,
        "messages": page,
        "has_more": more,
        "response_metadata": {"next_cursor": str(start + limit) if more else ""},
    }


def _dropped(request: web.Request) -> web.StreamResponse:
    """Close the connection without an answer, as a network cut does."""
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=200)


def channel_id(channel: str) -> str:
    """A channel name as Slack would answer with its id: ``finance`` -> ``CFINANCE``."""
    if re.fullmatch(r"[CDGU][A-Z0-9]+", channel):
        return channel if not channel.startswith("U") else "D" + channel[1:]
    return "C" + re.sub(r"[^A-Z0-9]", "", channel.upper())


async def _params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        params.update(await request.json())
    elif request.can_read_body:
        params.update(dict(await request.post()))
    for key in ("blocks", "view"):
        if isinstance(params.get(key), str):
            params[key] = json.loads(params[key])
    return params


class LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


def sign(body: str, timestamp: int, secret: str = SECRET) -> str:
    """Slack's request signature: v0= HMAC-SHA256 of ``v0:{timestamp}:{body}``."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class SlackWorld:
    """The arbot server (built by ``build_web_app``) against the fake, for one test."""

    def __init__(self, ctx: AppContext, *, front: str | None = None) -> None:
        """``front``: a Unix socket path to serve on, behind the acknowledging front."""
        self.ctx = ctx
        self.loop = LoopThread()
        self.fake = FakeSlack()
        self.loop.run(self.fake.start())
        self.settings = ServerSettings(
            slack=SlackSettings(bot_token="xoxb-test", signing_secret=SECRET, api_url=self.fake.api_url)
        )
        self.app = build_web_app(ctx, self.settings)
        self.runtime = self.app[MOUNTED]["slack"].background
        self.sent = 0  # Slack requests answered 200 (through a front: acknowledged)
        self.arrived = 0  # Slack requests the server itself has answered
        self.app.middlewares.append(self._count_arrivals)
        self._runner = web.AppRunner(self.app, access_log=None)
        self.loop.run(self._runner.setup())
        self.front: FrontProcess | None = None
        if front is None:
            self.loop.run(web.TCPSite(self._runner, "127.0.0.1", 0).start())
            host, port = self._runner.addresses[0][:2]
        else:  # as `arbot serve` runs it: the front on the port, the server on a Unix socket
            self.loop.run(web.UnixSite(self._runner, front).start())
            self.front = FrontProcess("127.0.0.1", 0, front, SECRET, log_level="WARNING")
            self.front.start()
            host, port = "127.0.0.1", self.front.port
        self.url = f"http://{host}:{port}"
        self._responses = itertools.count(1)

    def close(self) -> None:
        if self.front is not None:
            self.front.stop()
        self.loop.run(self._runner.cleanup())
        self.loop.run(self.fake.stop())
        self.loop.close()

    @property
    def messenger(self) -> Any:
        return self.app[MOUNTED]["slack"].messenger

    # sending, as Slack does
    def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        path: str = "/slack/events",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        ts = int(time.time()) if timestamp is None else timestamp
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": signature or sign(body, ts),
            **(headers or {}),
        }
        request = urllib.request.Request(self.url + path, data=body.encode(), headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                self.sent += path == "/slack/events" and response.status == 200
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    @web.middleware
    async def _count_arrivals(self, request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            return await handler(request)
        finally:
            self.arrived += request.path == "/slack/events"

    def command(self, user: str, text: str, *, command: str = "/ar", channel: str = "C0COLLECT") -> str:
        """A slash command; returns the name of its response URL (to find the answer)."""
        name = f"cmd{next(self._responses)}"
        fields = {
            **fixture("slash_command"),
            "user_id": user,
            "text": text,
            "command": command,
            "channel_id": channel,
            "response_url": self.fake.response_url(name),
            "trigger_id": self.trigger(),
        }
        status, _ = self.post(urllib.parse.urlencode(fields), "application/x-www-form-urlencoded")
        assert status == 200
        return name

    def trigger(self) -> str:
        """A fresh ``trigger_id``: Slack gives one to every interaction."""
        return f"13345224609.738474920.{next(self._responses):019d}"

    def interact(self, payload: dict[str, Any]) -> tuple[int, str]:
        body = urllib.parse.urlencode({"payload": json.dumps(payload)})
        return self.post(body, "application/x-www-form-urlencoded")

    def click(self, user: str, message: Call, label: str, *, customer: str | None = None) -> str:
        """``user`` presses the button labelled ``label`` on a posted (or updated) message; on
        a list, the one on ``customer``'s line. Returns the name of its response URL."""
        button = next(
            e
            for b in message.params["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
            if e["text"]["text"] == label
            and (customer is None or json.loads(e["value"])["v"].get("customer") == customer)
        )
        channel, ts = message.answer["channel"], message.answer["ts"]
        name = f"act{next(self._responses)}"
        payload = fixture("block_actions")
        payload["user"] = {**payload["user"], "id": user}
        payload["container"] = {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": False}
        payload["channel"] = {"id": channel, "name": "directmessage" if channel.startswith("D") else "channel"}
        payload["message"] = {**payload["message"], "ts": ts, "blocks": message.params["blocks"]}
        payload["response_url"] = self.fake.response_url(name)
        payload["trigger_id"] = self.trigger()
        payload["actions"] = [
            {
                **payload["actions"][0],
                "action_id": button["action_id"],
                "text": button["text"],
                "value": button["value"],
            }
        ]
        status, _ = self.interact(payload)
        assert status == 200
        return name

    def submit(self, user: str, opened: Call, values: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """``user`` fills in the form ``views.open`` showed and submits it; ``values`` by field:
        a string for text, a date for a date picker, a list for checkboxes."""
        view = opened.params["view"]
        payload = fixture("view_submission")
        payload["user"] = {**payload["user"], "id": user}
        payload["trigger_id"] = self.trigger()
        payload["view"] = {
            **payload["view"],
            "blocks": view["blocks"],
            "callback_id": view["callback_id"],
            "private_metadata": view["private_metadata"],
            "state": {"values": view_state(view["blocks"], values)},
        }
        status, body = self.interact(payload)
        return status, (json.loads(body) if body else {})

    def event(self, name: str, *, event_id: str | None = None, retry: int = 0, **event: Any) -> tuple[int, str]:
        """An Events API delivery of fixture ``name`` with these event fields; a fresh
        ``event_id`` unless one is given (Slack keeps it on retries, and says which retry)."""
        payload = fixture(name)
        payload["event"] = {**payload["event"], **event}
        payload["event_id"] = event_id or f"Ev{next(self._responses):06d}"
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else {}
        return self.post(json.dumps(payload), "application/json", headers=headers)

    def settle(self) -> None:
        """Wait until the work the requests started (and the work it started) is done, and
        what it queued in the outbox is delivered. Behind a front, first until every request
        it acknowledged has reached the server."""
        deadline = time.monotonic() + 10
        while self.arrived < self.sent and time.monotonic() < deadline:
            time.sleep(0.005)
        self.loop.run(self.runtime.drain())
        self.loop.run(self.app[DELIVERY].drain())
        self.loop.run(self.runtime.drain())

    # reading what Slack was asked to do
    def posts(self, channel: str) -> list[Call]:
        return [c for c in self.fake.made("chat.postMessage") if c.answer["channel"] == channel]

    def last_post(self, channel: str) -> Call:
        return self.posts(channel)[-1]

    def answers(self, name: str) -> list[dict[str, Any]]:
        return [c.params for c in self.fake.made("response_url") if c.params["name"] == name]


def view_state(blocks: list[dict[str, Any]], values: dict[str, Any]) -> dict[str, Any]:
    """The ``view.state.values`` Slack sends for these inputs."""
    state: dict[str, Any] = {}
    for block in blocks:
        if block["type"] != "input":
            continue
        element, block_id = block["element"], block["block_id"]
        value = values.get(block_id)
        kind = element["type"]
        if kind == "datepicker":
            entry = {"type": kind, "selected_date": value.isoformat() if value else None}
        elif kind == "static_select":
            entry = {
                "type": kind,
                "selected_option": None
                if value is None
                else {"text": {"type": "plain_text", "text": value}, "value": value},
            }
        elif kind == "checkboxes":
            entry = {"type": kind, "selected_options": [{"value": v} for v in (value or [])]}
        else:
            entry = {"type": kind, "value": value}
        state[block_id] = {element["action_id"]: entry}
    return state


def text_of(call_params: dict[str, Any]) -> str:
    """Everything a message shows, as one string (for asserting on what people read)."""
    parts = [call_params.get("text") or ""]
    for block in call_params.get("blocks") or []:
        for key in ("text",):
            if isinstance(block.get(key), dict):
                parts.append(block[key]["text"])
        parts += [f["text"] for f in block.get("fields") or []]
        parts += [e.get("text", "") for e in block.get("elements") or [] if block["type"] == "context"]
    return "\n".join(parts)


CREATED = datetime(2026, 10, 1, tzinfo=UTC)


LEDGER = [
    # erp id, name, collector, [(number, kind, due date, open balance)]
    (
        "C100",
        "Acme Dental Group",
        "dana.reyes@example.com",
        [
            ("INV-1", InvoiceKind.STANDARD, date(2026, 10, 1), "1000.00"),
            ("INV-3", InvoiceKind.FINAL, date(2026, 8, 1), "2000.00"),
        ],
    ),
    ("C200", "Acme Ortho", "dana.reyes@example.com", [("A-1", InvoiceKind.STANDARD, date(2026, 11, 1), "800.00")]),
    ("C300", "Route 66 Dental", "dana.reyes@example.com", [("R-1", InvoiceKind.STANDARD, date(2026, 9, 3), "700.00")]),
    ("C900", NASTY_NAME, "dana.reyes@example.com", [("N-1", InvoiceKind.STANDARD, date(2026, 10, 10), "450.00")]),
]


def seed(ctx: AppContext) -> dict[str, int]:
    """Four past-due accounts of Dana's; one named to ping and format if it were not escaped."""
    with ctx.sessions.begin() as session:
        members = {m.email: m.id for m in session.scalars(select(TeamMember))}
        ids = {}
        for erp_id, name, collector, items in LEDGER:
            customer = Customer(
                erp_id=erp_id, name=name, currency="USD", created_at=CREATED, collector_id=members[collector]
            )
            session.add(customer)
            session.flush()
            ids[erp_id] = customer.id
            for number, kind, due, balance in items:
                session.add(
                    Invoice(
                        customer_id=customer.id,
                        number=number,
                        kind=kind,
                        due_date=due,
                        amount=Decimal(balance),
                        open_balance=Decimal(balance),
                        currency="USD",
                    )
                )
    return ids


FRIDAY = date(2026, 11, 27)


def rows_of(world: SlackWorld, model: type) -> list:
    """Every row of ``model``, oldest first: what a Slack conversation left in the database."""
    with world.ctx.sessions() as session:
        return list(session.scalars(select(model).order_by(model.id)))
