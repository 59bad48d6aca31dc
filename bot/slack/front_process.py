"""Starting, watching and stopping the acknowledging front (bot.slack.front) from ``arbot serve``.

The server then listens only on a Unix socket in a private folder; the front owns the public
port. The front is its own program (``python -m bot.slack.front``, started as a subprocess, so a
server running as anybody's child process may start it); it is started before the server takes
requests and stopped after the server stopped taking them; if it dies it is started again, on
the same port, and it stops by itself when the server that started it is gone, so neither is
left serving alone."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import select
import subprocess
import sys
from collections.abc import AsyncIterator

from bot.slack.front import SECRET_VARIABLE

log = logging.getLogger(__name__)

START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 15.0
WATCH_EVERY_SECONDS = 1.0


class FrontProcess:
    """The front at ``host:port`` (port 0: any free one, then :attr:`port` says which), in front
    of the server listening on ``socket_path``."""

    def __init__(self, host: str, port: int, socket_path: str, signing_secret: str, *, log_level: str = "INFO") -> None:
        self.host = host
        self.port = port
        self.socket_path = socket_path
        self.signing_secret = signing_secret
        self.log_level = log_level
        self.restarts = 0
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        """Start the front and wait until it listens; raises RuntimeError when it cannot."""
        command = [sys.executable, "-m", "bot.slack.front", "--host", self.host, "--port", str(self.port)]
        command += ["--socket", self.socket_path, "--log-level", self.log_level]
        environment = {**os.environ, SECRET_VARIABLE: self.signing_secret}
        process = subprocess.Popen(command, stdout=subprocess.PIPE, env=environment, text=True)
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT_SECONDS)
        said = process.stdout.readline().strip() if ready else ""
        if not said.startswith("listening "):
            process.kill()
            process.wait()
            raise RuntimeError(f"the Slack front could not start: {said or 'it did not say it was listening'}")
        self.port = int(said.split()[1])  # a restart listens on the same port
        self._process = process

    def stop(self) -> None:
        """Stop the front: it stops listening, hands over what it acknowledged, and exits."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            log.error("the Slack front did not stop within %g s; killed", STOP_TIMEOUT_SECONDS)
            process.kill()
            process.wait()

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The front started (and watched) while the block runs, stopped when it ends: a server
        stops its front first, so what the front acknowledged reaches it before it closes."""
        await asyncio.to_thread(self.start)
        watch = asyncio.create_task(self._keep_alive(), name="slack-front-watch")
        try:
            yield
        finally:
            watch.cancel()
            await asyncio.gather(watch, return_exceptions=True)
            await asyncio.to_thread(self.stop)

    async def _keep_alive(self) -> None:
        while True:
            await asyncio.sleep(WATCH_EVERY_SECONDS)
            if self._process is not None and self._process.poll() is not None:
                self.restarts += 1
                log.error("the Slack front exited (code %s); starting it again", self._process.returncode)
                try:
                    await asyncio.to_thread(self.start)
                except RuntimeError:
                    log.exception("could not start the Slack front again; trying again shortly")
