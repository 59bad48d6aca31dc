"""What a person is told when their request fails on our side, and the reference that finds it
in the log. Every failure gets a short reference (``ref K3QX7P``) logged with its traceback; the
person sees one sentence with that reference, never a traceback, and the sentence says truly
whether anything was saved. Shared by the router and every chat adapter, so a reference means
the same thing wherever it was given."""

from __future__ import annotations

import logging
import secrets
import string
from enum import Enum

from commands import messages
from commands.messages import Reply
from storage.db_problems import database_problem

log = logging.getLogger(__name__)

_REF_ALPHABET = string.ascii_uppercase + string.digits


class Saved(Enum):
    """What is known about the request's effects when it failed."""

    NO = "no"  # rolled back, or never reached the database
    YES = "yes"  # committed (checked by its key)
    UNKNOWN = "unknown"  # the connection was lost around COMMIT and nothing could be checked


UNSURE = "I can't tell yet whether it was"  # in every answer given with Saved.UNKNOWN


def unsure(reply: Reply) -> bool:
    """Whether this answer left the person not knowing if their request was saved."""
    return UNSURE in reply.title


def new_ref() -> str:
    return "".join(secrets.choice(_REF_ALPHABET) for _ in range(6))


def failure_reply(
    exc: BaseException, *, saved: Saved = Saved.NO, doing: str = "chat request", detail: str = ""
) -> Reply:
    """Log ``exc`` with a new reference and say what happened in one sentence."""
    ref = new_ref()
    log.error(
        "%s failed (ref %s)%s",
        doing,
        ref,
        f": {detail}" if detail else "",
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    return messages.error(sentence(exc, saved=saved, ref=ref))


def sentence(exc: BaseException, *, saved: Saved, ref: str) -> str:
    problem = database_problem(exc)
    cause = f"Something went wrong on our side: {problem}" if problem else "Something went wrong on our side"
    if saved is Saved.YES:
        return f"{cause}, but your request was saved (ref {ref})"
    if saved is Saved.UNKNOWN:
        return (
            f"{cause} just as your request was being saved, and {UNSURE} "
            f"(ref {ref}). Check with `status` before trying again"
        )
    return f"{cause}; nothing was saved (ref {ref})" + ("; try again in a minute" if problem else "")
