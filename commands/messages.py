"""The neutral message model: what a user said (:class:`Incoming`) and what the bot answers
(:class:`Reply`). Adapters turn platform payloads into ``Incoming`` and draw a ``Reply`` as Block
Kit, an Adaptive Card or plain text. All text here is plain: adapters escape it for their markup,
so a customer called ``<!channel>`` cannot ping anyone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol


@dataclass(frozen=True)
class ChatUser:
    """Who spoke. ``email`` is how the core finds the team member (and so their roles)."""

    platform: str  # "slack" | "teams" | "terminal"
    user_id: str
    email: str | None = None
    display_name: str | None = None


@dataclass(frozen=True)
class Where:
    """A conversation, and optionally a thread in it."""

    channel: str
    thread: str | None = None


@dataclass(frozen=True)
class Action:
    """A button press: the action name and the data the button carried. Data from a button is
    never trusted for authorization, only to say which item was clicked."""

    name: str
    value: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Incoming:
    user: ChatUser
    where: Where
    text: str | None = None
    action: Action | None = None
    # The request's idempotency key (the platform's event or activity id): stored with its
    # effects, so a redelivery takes effect once and a lost COMMIT can be checked afterwards.
    request_id: str | None = None


class Tone(str, Enum):
    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    ERROR = "error"


class ButtonStyle(str, Enum):
    DEFAULT = "default"
    PRIMARY = "primary"
    DANGER = "danger"


@dataclass(frozen=True)
class Button:
    label: str
    action: str
    value: dict[str, Any] = field(default_factory=dict)
    style: ButtonStyle = ButtonStyle.DEFAULT


@dataclass(frozen=True)
class Field:
    label: str
    value: str


@dataclass(frozen=True)
class Row:
    """One line of a list: a headline, a detail line (reasons), and buttons acting on it."""

    title: str
    detail: str = ""
    fields: tuple[Field, ...] = ()
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class Attachment:
    """A file that goes with a message: a chart, a workbook. Slack uploads it into the
    message's channel; Teams shows an image in the card."""

    name: str
    mime: str
    data: bytes = field(repr=False)
    title: str = ""


@dataclass(frozen=True)
class Reply:
    title: str
    text: str = ""
    fields: tuple[Field, ...] = ()
    rows: tuple[Row, ...] = ()
    buttons: tuple[Button, ...] = ()
    tone: Tone = Tone.INFO
    # Where to post: None means "answer where the user spoke". A thread ref keeps it in a thread.
    where: Where | None = None
    # Only the person who asked should see it (Slack ephemeral / Teams personal reply).
    private: bool = False
    # Send privately to this team member (email) instead: their daily list, a reminder.
    to_user: str | None = None
    # Replace the tracked post with this key ("approval:12") in place (a decided card) instead
    # of posting anew. Nothing is sent when that post never went out.
    replaces: str | None = None
    # Post in the thread of the tracked post with this key; where it never went out, to
    # ``where`` / ``to_user`` instead, so the message still reaches someone.
    thread_of: str | None = None
    # Team members (emails) to mention, so their client notifies them: the people who must act.
    mentions: tuple[str, ...] = ()
    # Remember where this post landed under this key ("approval:12"), so later updates and
    # thread replies can find it.
    track: str | None = None
    # Files that go with it (a chart image, a workbook).
    files: tuple[Attachment, ...] = ()

    @property
    def for_asker(self) -> bool:
        """An answer to the person who spoke, sent back on their own request (the fast path);
        everything else goes through the outbox."""
        return self.where is None and self.to_user is None and self.replaces is None and self.thread_of is None


@dataclass(frozen=True)
class PostedRef:
    """Handle of a posted message, so it can be updated or replied to in its thread."""

    where: Where
    message_id: str

    def thread(self) -> Where:
        """The thread under this message."""
        return Where(channel=self.where.channel, thread=self.where.thread or self.message_id)


def error(title: str, text: str = "") -> Reply:
    return Reply(title=title, text=text, tone=Tone.ERROR, private=True)


class DeliveryFailed(Exception):
    """A platform refused or did not take a message. ``permanent`` failures (unknown or
    deactivated user, bot not in the channel, no stored conversation) will not go away by
    retrying and need a person; the others (429, 5xx, timeouts, dropped connections) are retried,
    not before ``retry_after`` seconds when the platform said so. ``hint`` tells a person what
    to do about it.

    ``may_have_landed`` is False when the platform answered that it did not take the message
    (a 429, a refusal): the retry need not look for an earlier attempt. A timeout or a dropped
    connection leaves it True. ``parts`` are the parts of a long message (part number -> where
    it landed) that went out before the failure, so the retry sends only the rest."""

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool,
        retry_after: float | None = None,
        hint: str = "",
        may_have_landed: bool = True,
        parts: Mapping[int, PostedRef] | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason, self.permanent, self.retry_after, self.hint = reason, permanent, retry_after, hint
        self.may_have_landed = may_have_landed
        self.parts: dict[int, PostedRef] = dict(parts or {})


class Messenger(Protocol):
    """The port the core sends through; each platform adapter implements it."""

    def post(self, where: Where, reply: Reply) -> PostedRef:
        """Post a message to a channel, or into a thread when ``where.thread`` is set."""
        ...

    def update(self, ref: PostedRef, reply: Reply) -> None:
        """Replace a posted message in place (a decided approval card)."""
        ...

    def direct(self, email: str, reply: Reply) -> PostedRef:
        """Send to one team member privately (their daily list)."""
        ...
