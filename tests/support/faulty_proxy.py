"""A TCP proxy in front of PostgreSQL that a test can break the way networks break: stop
listening (connection refused), swallow everything (a hung network: connections open, nothing
answers), or cut the connection around a COMMIT (before it reaches the server, or after the
server got it but before its reply reaches the client)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass, field

PASS, HANG, CUT_BEFORE_COMMIT, CUT_AFTER_COMMIT = "pass", "hang", "cut before commit", "cut after commit"
COMMIT = b"COMMIT"


@dataclass
class _Link:
    client: socket.socket
    server: socket.socket | None
    hold_replies: bool = False
    closed: threading.Event = field(default_factory=threading.Event)

    def close(self) -> None:
        self.closed.set()
        for sock in (self.client, self.server):
            if sock is None:
                continue
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


class FaultyProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.mode = PASS
        self.after_cut = PASS  # the mode once a COMMIT was cut (one cut per arming)
        self.port = 0
        self.cuts = 0
        self._listener: socket.socket | None = None
        self._links: list[_Link] = []
        self._lock = threading.Lock()

    # -- control -----------------------------------------------------------------------------------

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def refuse(self) -> None:
        """Stop listening: every new connection is refused; open ones are cut."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):  # wakes the accepting thread (close alone does not)
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        self.drop_all()

    def allow(self) -> None:
        """Listen again on the same port, passing everything."""
        self.mode = PASS
        if self._listener is None:
            self.start()

    def drop_all(self) -> None:
        with self._lock:
            links, self._links = self._links, []
        for link in links:
            link.close()

    def stop(self) -> None:
        self.refuse()

    # -- plumbing ----------------------------------------------------------------------------------

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            if self.mode == HANG:  # accepted, and then nothing: not even the server is called
                link = _Link(client, None)
                with self._lock:
                    self._links.append(link)
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            link = _Link(client, server)
            with self._lock:
                self._links.append(link)
            threading.Thread(target=self._to_server, args=(link,), daemon=True).start()
            threading.Thread(target=self._to_client, args=(link,), daemon=True).start()

    def _to_server(self, link: _Link) -> None:
        assert link.server is not None
        while not link.closed.is_set():
            try:
                data = link.client.recv(65536)
            except OSError:
                break
            if not data:
                break
            if self.mode == HANG:
                continue  # swallowed
            if COMMIT in data and self.mode in (CUT_BEFORE_COMMIT, CUT_AFTER_COMMIT):
                self._cut(link, data)
                return
            try:
                link.server.sendall(data)
            except OSError:
                break
        link.close()

    def _cut(self, link: _Link, data: bytes) -> None:
        assert link.server is not None
        if self.mode == CUT_AFTER_COMMIT:
            link.hold_replies = True
            link.server.sendall(data)
            time.sleep(0.5)  # the server commits and answers; the answer goes nowhere
        self.cuts += 1
        after = self.after_cut
        self.mode = PASS
        if after == "refuse":  # before the client sees the cut: its very next connection must be refused
            self.refuse()
        link.close()

    def _to_client(self, link: _Link) -> None:
        assert link.server is not None
        while not link.closed.is_set():
            try:
                data = link.server.recv(65536)
            except OSError:
                break
            if not data:
                break
            if self.mode == HANG or link.hold_replies:
                continue
            try:
                link.client.sendall(data)
            except OSError:
                break
        link.close()
