"""What a database failure means, in a sentence a person can act on, and whether it cut the
conversation with the database (so a COMMIT just sent may or may not have taken effect)."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError

_PROBLEMS = (  # (words in the driver's message, the sentence); first match wins
    (
        ("read-only", "readonly", "read only"),
        "the database is read-only (check the file's and its folder's permissions)",
    ),
    (
        ("database or disk is full", "no space left", "disk full", "could not extend file"),
        "the database's disk is full",
    ),
    (
        ("database is locked", "database table is locked", "lock timeout", "deadlock"),
        "the database is locked by another program and stayed locked past the timeout",
    ),
    (("statement timeout", "canceling statement due to"), "the database took too long to answer"),
    (("timeout expired", "timed out", "connection timeout"), "the database did not answer in time"),
    (
        (
            "connection refused",
            "could not connect",
            "could not translate host",
            "name or service not known",
            "no route to host",
            "network is unreachable",
        ),
        "the database cannot be reached",
    ),
    (
        (
            "server closed the connection",
            "connection reset",
            "broken pipe",
            "connection is closed",
            "terminating connection",
            "consuming input failed",
            "ssl syscall",
            "lost synchronization",
            "the connection is lost",
            "connection already closed",
        ),
        "the connection to the database was lost",
    ),
    (("unable to open database file", "no such file or directory"), "the database file cannot be opened"),
    (("authentication failed", "password"), "the database refused the bot's login"),
)


def database_problem(exc: BaseException) -> str | None:
    """What a database failure means, as a sentence a person can act on (None when ``exc`` is
    not one). Walks the causes, so a wrapped driver error is recognised too."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (DBAPIError, OSError)) or type(current).__module__.startswith(("sqlite3", "psycopg")):
            message = str(getattr(current, "orig", None) or current).lower()
            for words, sentence in _PROBLEMS:
                if any(word in message for word in words):
                    return sentence
            if isinstance(current, OperationalError):
                return "the database could not do what was asked"
        current = current.__cause__ or current.__context__
    return None


def connection_lost(exc: BaseException) -> bool:
    """Whether the failure cut the conversation with the database (so a COMMIT sent just
    before may or may not have taken effect)."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OperationalError) or database_problem(exc) in (
        "the connection to the database was lost",
        "the database did not answer in time",
    )
