"""The chat platforms ``arbot serve`` can mount, by name, and what mounting one gives back.

Each platform package has a ``mount`` module whose ``mount(app, ctx, settings)`` adds its routes
to the shared aiohttp application (or nothing, when it is not configured) and returns a
:class:`Mounted`. The server knows the packages only by the names below and imports a platform's
module when it mounts it, so a deployment without Teams never loads botbuilder, and neither the
server nor one platform imports another platform's code. Adding a platform is one package with a
``mount`` module and one line here."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from aiohttp import web

    from commands.context import AppContext
    from commands.messages import Messenger

# name -> the module holding its ``mount``; order is the order of preference for delivery.
PLATFORMS: dict[str, str] = {"slack": "bot.slack.mount", "teams": "bot.teams.mount"}


class Front(Protocol):
    """A process that owns the server's public port and hands requests to the server, which
    then listens on a Unix socket (Slack's acknowledging front, bot.slack.front)."""

    port: int  # where it listens (a port of 0 asked for any free one)

    def running(self) -> AbstractAsyncContextManager[None]: ...


FrontFactory = Callable[[str, int, str], Front]  # (host, port, the server's socket path)


class Background(Protocol):
    """Work a platform runs after answering a request; drained before the server stops."""

    async def drain(self) -> None: ...


@dataclass(frozen=True)
class Mounted:
    """What a platform did: its mode (``http``, ``socket``, ``off``), the messenger it offers
    for posts nobody asked for (the outbox's), its background work, (when the mode alone does
    not say whether it works yet, as with Socket Mode still connecting) its live status, and
    the front it wants on the public port, if any."""

    mode: str
    messenger: Messenger | None = None
    background: Background | None = None
    status: Callable[[], str] | None = None  # the live state /healthz reports instead of the mode
    front: FrontFactory | None = None  # a front to put on the public port, the server behind it


Mount = Callable[["web.Application", "AppContext", Any], Mounted]


def mount_of(name: str) -> Mount:
    """The ``mount`` function of platform ``name``, its module imported now."""
    function: Mount = importlib.import_module(PLATFORMS[name]).mount
    return function


def lazy(name: str) -> Mount:
    """A ``mount`` that imports its platform's module only when called."""

    def mount(app: web.Application, ctx: AppContext, settings: Any) -> Mounted:
        return mount_of(name)(app, ctx, settings)

    mount.__name__ = f"mount_{name}"
    return mount


def endpoints() -> dict[str, Mount]:
    """Every platform, mounted in order when the server is built."""
    return {name: lazy(name) for name in PLATFORMS}
