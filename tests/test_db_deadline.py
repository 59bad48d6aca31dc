"""The client-side statement deadline (storage.deadline) on real sockets: a statement whose peer
stops answering has its socket cut once its deadline passed; statements that finish in time are
never cut, and however many there are, the watcher looks only once per tick (it used to be woken
for every statement, about a thousand times a second at 50 chat messages a second); with nothing
under way it ends, and the next statement starts it again."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from storage.deadline import StatementDeadline


@pytest.fixture
def peers() -> Iterator[tuple[socket.socket, socket.socket]]:
    ours, theirs = socket.socketpair()
    yield ours, theirs
    ours.close()
    theirs.close()


def wait_for(condition: object, within: float = 10.0) -> None:
    """Until ``condition()`` holds, failing after ``within`` seconds (a hang is a failure, not a
    timing claim)."""
    give_up = time.monotonic() + within
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < give_up, "never happened"
        time.sleep(0.01)


def test_a_statement_whose_peer_never_answers_is_cut(peers: tuple[socket.socket, socket.socket]) -> None:
    ours, _silent = peers
    deadline = StatementDeadline(0.2, tick=0.05)
    got: list[bytes] = []

    def statement() -> None:
        with deadline.watching(ours.fileno()):
            got.append(ours.recv(1))  # waits for an answer that never comes

    waiting = threading.Thread(target=statement, daemon=True)
    waiting.start()
    waiting.join(10)
    assert not waiting.is_alive(), "the wait was never cut"
    assert got == [b""] and deadline.cut == 1


def test_statements_that_finish_are_never_cut_and_do_not_wake_the_watcher(
    peers: tuple[socket.socket, socket.socket],
) -> None:
    ours, theirs = peers
    now = [0.0]
    deadline = StatementDeadline(5.0, clock=lambda: now[0], tick=0.05)
    started = time.monotonic()
    for _ in range(5_000):
        with deadline.watching(ours.fileno()):  # a round trip: the wait lets other threads run
            theirs.sendall(b"?")
            assert ours.recv(1) == b"?"
    wait_for(lambda: deadline.looks >= 1)
    took = time.monotonic() - started
    now[0] = 100.0  # every deadline armed above has passed: none may be cut, all finished
    wait_for(lambda: deadline.looks >= 3)
    theirs.sendall(b"x")
    assert ours.recv(1) == b"x", "the connection is whole"
    assert deadline.cut == 0
    assert deadline.looks <= (time.monotonic() - started) / deadline.tick + 1, (
        f"{deadline.looks} looks for 5,000 statements in {took:.2f} s: the watcher ran per statement"
    )


def test_the_watcher_ends_when_idle_and_the_next_statement_starts_it(
    peers: tuple[socket.socket, socket.socket],
) -> None:
    ours, _silent = peers
    deadline = StatementDeadline(0.2, tick=0.01, idle_looks=3)
    with deadline.watching(ours.fileno()):
        watcher = deadline.watcher
        assert watcher is not None and watcher.is_alive()
    watcher.join(10)
    assert not watcher.is_alive() and deadline.watcher is None, "an idle watcher thread stays behind"
    waiting = threading.Thread(target=lambda: _statement(deadline, ours), daemon=True)
    waiting.start()
    waiting.join(10)
    assert not waiting.is_alive() and deadline.cut == 1, "a new watcher cuts a hung statement again"


def _statement(deadline: StatementDeadline, sock: socket.socket) -> None:
    with deadline.watching(sock.fileno()):
        sock.recv(1)
