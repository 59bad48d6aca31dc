"""What a chat command is, and the registry the router dispatches through.

A command is a small module that builds a :class:`Command` (name, aliases, usage line, a parse
function and a handler) and adds it in its ``register(registry)``; a button is a
:class:`ButtonAction` found by ``Action.name`` the same way. Parsing reads text into a typed
request or a refusal; handling changes the ledger and says what to post. Both get the session
the router opened, so one message is one transaction."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy.orm import Session

from commands.actor import Actor
from commands.context import AppContext
from commands.messages import Incoming, Reply
from commands.refusal import Refusal

R = TypeVar("R")
R_contra = TypeVar("R_contra", contravariant=True)
R_co = TypeVar("R_co", covariant=True)


@dataclass(frozen=True)
class ParseEnv:
    """What a parser may consult: the open session (to find customers), the context (today),
    the message itself (its thread, for replies in a thread) and the registry (for help)."""

    session: Session
    ctx: AppContext
    incoming: Incoming
    actor: Actor
    registry: Registry

    def today(self) -> date:
        return self.ctx.today()


class Parser(Protocol[R_co]):
    def __call__(self, args: str, env: ParseEnv, /) -> R_co | Refusal: ...


class Handler(Protocol[R_contra]):
    def __call__(
        self, request: R_contra, actor: Actor, ctx: AppContext, /, *, session: Session
    ) -> list[Reply] | Refusal: ...


class ActionHandler(Protocol):
    def __call__(
        self, value: dict[str, Any], actor: Actor, ctx: AppContext, /, *, session: Session
    ) -> list[Reply] | Refusal: ...


@dataclass(frozen=True)
class Command(Generic[R]):
    name: str
    usage: str
    summary: str
    parse: Parser[R]
    handle: Handler[R]
    aliases: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    # One example as a template (<customer>, and <invoice> and <amount> where the command needs
    # them) that ``help`` fills with one of the asker's own accounts, so it can be typed as shown.
    try_it: str = ""
    # Only looks: runs in a read-only transaction that takes no write lock and stores no request
    # key (asked again, it is answered again from the ledger as it is then, which is as true).
    reads_only: bool = False


@dataclass(frozen=True)
class ButtonAction:
    """A button press by ``Action.name``; its data says which item was clicked, nothing more."""

    name: str
    handle: ActionHandler


@dataclass
class Registry:
    """Commands by name and alias, and button actions by name, in registration order."""

    _commands: dict[str, Command[Any]] = field(default_factory=dict)
    _words: dict[str, Command[Any]] = field(default_factory=dict)
    _actions: dict[str, ButtonAction] = field(default_factory=dict)

    def add(self, command: Command[Any]) -> None:
        for word in (command.name, *command.aliases):
            if word in self._words:
                raise ValueError(f"command word {word!r} is registered twice")
            self._words[word] = command
        self._commands[command.name] = command

    def add_action(self, action: ButtonAction) -> None:
        if action.name in self._actions:
            raise ValueError(f"button action {action.name!r} is registered twice")
        self._actions[action.name] = action

    @property
    def commands(self) -> tuple[Command[Any], ...]:
        return tuple(self._commands.values())

    def find(self, word: str) -> Command[Any] | None:
        return self._words.get(word.lower())

    def action(self, name: str) -> ButtonAction | None:
        return self._actions.get(name)

    def suggest(self, word: str) -> str | None:
        """The command a typo most likely meant (``promse`` -> ``promise``)."""
        close = difflib.get_close_matches(word.lower(), list(self._words), n=1, cutoff=0.6)
        return self._words[close[0]].name if close else None
