"""Keep-alive HTTP connections for the synchronous Slack clients, a few per host.

slack_sdk's sync clients go through ``urllib.request.urlopen``, which opens a connection for
every call and closes it after (a TCP and a TLS handshake to slack.com or hooks.slack.com for
each answer and each post). :class:`HttpPool` sends the same ``urllib.request.Request`` over a
kept connection instead, with urllib's outward behaviour, so slack_sdk's retry loop and our
error mapping see what they saw before:

- a 2xx comes back as :class:`Answer`; any other status raises ``urllib.error.HTTPError`` with
  the status, headers and body (no redirects are followed: Slack's API and response_urls
  answer a POST directly, and urllib would have turned a redirected POST into a bodiless GET);
- a failure while connecting or writing the request raises ``urllib.error.URLError`` (as
  urllib wraps it); a failure while reading the answer is raised as it is
  (``RemoteDisconnected``, ``ConnectionResetError``, ``TimeoutError``).

**When a request is sent again.** Slack's ``response_url`` answers and ``chat.postMessage`` are
not idempotent, so the pool repeats a request only when it provably did not reach the server:

1. before a kept connection is used it is checked: idle longer than ``max_idle`` seconds (under
   the usual server and load balancer idle limits, so the server rarely closes one under us),
   or readable (the server's FIN or RST arrived: an idle HTTP/1.1 server never sends anything
   else), it is closed and another taken. Nothing was sent on it.
2. writing the request on a *kept* connection fails (``EPIPE``, ``ECONNRESET``): the request did
   not go out whole, and a server does not act on a request whose body it did not get. It is
   written once more on a new connection.
3. the request was written and the connection then closed with no answer (``RemoteDisconnected``),
   was reset, or timed out: *not* repeated here, on a kept connection or a new one. That is what
   a server closing an idle connection at the very moment the request left looks like, but also
   what a proxy that took the request and then lost its upstream looks like; the two cannot be
   told apart from here. The error is raised exactly as a one-shot urllib call raises it, and
   the client's configured policy decides as before (the answer path's retry handler tries a
   dropped connection once; the outbox's client never retries blindly and looks for the earlier
   attempt first). Step 1 makes this window one network round trip wide.

Bounded: at most ``per_host`` connections to one host, in use and idle together; a thread that
finds them all busy waits up to the request's timeout, then gets ``TimeoutError``. A response
that says ``Connection: close`` closes its connection. Thread-safe: a connection belongs to one
request at a time."""

from __future__ import annotations

import http.client
import io
import logging
import select
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

# As many as can send at once: the server's worker threads (bot.tuning caps them at 15) and the
# outbox's sender; a request that finds them all busy waits for one, up to its timeout.
PER_HOST = 16
MAX_IDLE_SECONDS = 30.0  # below the common 60 s (load balancers) and 75 s (nginx) idle limits

Connection = http.client.HTTPConnection


@dataclass(frozen=True)
class Answer:
    """An answer, read whole (its connection was kept or closed already)."""

    status: int
    reason: str
    headers: Message
    body: bytes


class _NotSent(Exception):
    """The request did not go out whole (connecting or writing failed)."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass
class _Idle:
    connection: Connection
    since: float


@dataclass
class HostPool:
    """The connections to one scheme://host:port."""

    scheme: str
    host: str
    port: int | None
    size: int
    max_idle: float
    context: ssl.SSLContext | None
    opened: int = 0  # connections opened so far (tests and the benchmark read it)
    resent: int = 0  # requests written again after a kept connection failed to take them
    _idle: list[_Idle] = field(default_factory=list)  # oldest first; the newest is reused
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _slots: threading.BoundedSemaphore = field(init=False)

    def __post_init__(self) -> None:
        self._slots = threading.BoundedSemaphore(self.size)

    @contextmanager
    def slot(self, timeout: float) -> Iterator[None]:
        """One of the ``size`` connections, waiting up to ``timeout`` for one to be free."""
        if not self._slots.acquire(timeout=timeout):
            raise TimeoutError(f"all {self.size} connections to {self.host} stayed busy for {timeout:g} s")
        try:
            yield
        finally:
            self._slots.release()

    def take(self, timeout: float) -> tuple[Connection, bool]:
        """A kept connection that is still open (and whether it is kept), else a new one."""
        while True:
            with self._lock:
                idle = self._idle.pop() if self._idle else None
            if idle is None:
                return self.open(timeout), False
            if time.monotonic() - idle.since > self.max_idle or _closed_by_server(idle.connection):
                idle.connection.close()
                continue
            assert idle.connection.sock is not None
            idle.connection.sock.settimeout(timeout)
            return idle.connection, True

    def open(self, timeout: float) -> Connection:
        """A new connection; it connects when the request is written, so a failure to connect
        is a failure to send."""
        with self._lock:
            self.opened += 1
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout, context=self.context)
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def count_resent(self) -> None:
        with self._lock:
            self.resent += 1

    def give_back(self, connection: Connection) -> None:
        now = time.monotonic()
        with self._lock:
            while self._idle and now - self._idle[0].since > self.max_idle:
                self._idle.pop(0).connection.close()
            self._idle.append(_Idle(connection, now))

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for kept in idle:
            kept.connection.close()


class HttpPool:
    """Keep-alive connections per host for ``urllib.request.Request`` objects (see the module's
    docstring for what is sent again and what is not)."""

    def __init__(
        self, *, per_host: int = PER_HOST, max_idle: float = MAX_IDLE_SECONDS, context: ssl.SSLContext | None = None
    ) -> None:
        self.per_host = per_host
        self.max_idle = max_idle
        self.context = context or _default_context()
        self._hosts: dict[tuple[str, str, int | None], HostPool] = {}
        self._lock = threading.Lock()

    def host(self, url: str) -> HostPool:
        """The pool of ``url``'s scheme, host and port."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        key = (scheme, parts.hostname, parts.port)
        with self._lock:
            if key not in self._hosts:
                context = self.context if scheme == "https" else None
                self._hosts[key] = HostPool(scheme, parts.hostname, parts.port, self.per_host, self.max_idle, context)
            return self._hosts[key]

    def connections_opened(self) -> int:
        with self._lock:
            hosts = list(self._hosts.values())
        return sum(h.opened for h in hosts)

    def urlopen(self, request: urllib.request.Request, *, timeout: float) -> Answer:
        """Send ``request`` as ``urllib.request.urlopen`` would, over a kept connection."""
        pool = self.host(request.full_url)
        with pool.slot(timeout):
            connection, kept = pool.take(timeout)
            try:
                answer = _use(pool, connection, request)
            except _NotSent as failed:
                if not kept:
                    raise urllib.error.URLError(failed.error) from failed.error
                log.info("a kept connection to %s was gone (%s); sending on a new one", pool.host, failed.error)
                pool.count_resent()
                try:
                    answer = _use(pool, pool.open(timeout), request)
                except _NotSent as again:
                    raise urllib.error.URLError(again.error) from again.error
        return _checked(request, answer)

    def close(self) -> None:
        """Close the idle connections (those in use close as their requests end)."""
        with self._lock:
            hosts = list(self._hosts.values())
        for pool in hosts:
            pool.close()


def _use(pool: HostPool, connection: Connection, request: urllib.request.Request) -> Answer:
    """One exchange on ``connection``; after it the connection is kept, or closed when the
    server said so or anything went wrong (the state of a failed exchange is unknown)."""
    try:
        answer, closes = _exchange(connection, request)
    except BaseException:
        connection.close()
        raise
    if closes:
        connection.close()
    else:
        pool.give_back(connection)
    return answer


def _exchange(connection: Connection, request: urllib.request.Request) -> tuple[Answer, bool]:
    """Write ``request``, read its answer whole; whether the connection must close after."""
    headers = dict(request.header_items())
    if request.data is not None and not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = "application/x-www-form-urlencoded"  # as urllib adds it
    body = request.data
    if body is not None and not isinstance(body, bytes):
        raise TypeError("the pool sends a body of bytes only")
    try:
        connection.request(request.get_method(), request.selector, body=body, headers=headers)
    except OSError as exc:
        raise _NotSent(exc) from exc
    response = connection.getresponse()
    data = response.read()
    answer = Answer(response.status, response.reason, response.headers, data)
    return answer, bool(response.will_close)


def _checked(request: urllib.request.Request, answer: Answer) -> Answer:
    """A non-2xx answer raised as urllib raises it."""
    if 200 <= answer.status < 300:
        return answer
    body = io.BytesIO(answer.body)
    raise urllib.error.HTTPError(request.full_url, answer.status, answer.reason, answer.headers, body)


def _closed_by_server(connection: Connection) -> bool:
    """Whether an idle connection is readable: the server closed it (FIN or RST), or sent
    something it had no reason to; either way it cannot carry a request."""
    sock = connection.sock
    if sock is None:
        return True
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    try:
        if hasattr(select, "poll"):  # any descriptor number, unlike select()
            poller = select.poll()
            poller.register(sock, select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP)
            return bool(poller.poll(0))
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _default_context() -> ssl.SSLContext:
    """What ``http.client`` uses by default: verified certificates and host names, HTTP/1.1."""
    context = ssl.create_default_context()
    context.set_alpn_protocols(["http/1.1"])
    return context
