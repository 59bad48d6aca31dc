"""Logging for every arbot command: one place sets the level, the format and what never gets
written.

Chat platforms put secrets in URLs and bodies (Slack's response_url and Socket Mode ticket URLs,
bot tokens, Bot Framework bearer tokens) and their SDKs log them at DEBUG, Bolt logs whole
request bodies at INFO when a signature does not match. So the SDKs' own loggers stay at
WARNING whatever level arbot runs at, and every line written is passed through
:func:`redact` as a second guard. The terminal chat keeps log lines out of the conversation:
they go to a file (``ARBOT_LOG_FILE``, default ``arbot.log``)."""

from __future__ import annotations

import logging
import os
import re
import sys

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# The SDKs that see tokens, signed URLs and request bodies; their chatter is never needed.
QUIET_LIBRARIES = (
    "slack_sdk",
    "slack_bolt",
    "botbuilder",
    "botframework",
    "msrest",
    "msal",
    "urllib3",
    "aiohttp.access",
    "aiohttp.client",
    "websockets",
    "apscheduler",
    "httpx",
    "httpcore",
    "requests_oauthlib",
    "oauthlib",
    # statements with their parameters: chat text, stored answers, button data
    "sqlalchemy.engine",
    "sqlalchemy.pool",
)
_SECRETS = [
    (re.compile(r"\bxox[abposre]-[A-Za-z0-9-]+"), "xox?-[redacted]"),
    (re.compile(r"\bxapp-[A-Za-z0-9-]+"), "xapp-[redacted]"),
    (re.compile(r"https://hooks\.slack\.com/\S+"), "https://hooks.slack.com/[redacted]"),
    (re.compile(r"wss://\S+"), "wss://[redacted]"),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+"), "Bearer [redacted]"),
    (
        re.compile(r"(?i)(response_url|trigger_id|token|client_secret|password)(['\"]?\s*[:=]\s*['\"]?)[^'\"&\s,}]+"),
        r"\1\2[redacted]",
    ),
]


def redact(text: str) -> str:
    """``text`` with every token, signed URL and secret-bearing field replaced."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure(default_level: str = "WARNING", *, to_file: str | None = None) -> None:
    """Set up logging for this process (replacing any earlier setup, so a subcommand's own
    default level takes effect): ``ARBOT_LOG_LEVEL`` wins over ``default_level``; ``to_file``
    sends the lines to a file instead of stderr."""
    level = (os.environ.get("ARBOT_LOG_LEVEL") or default_level).upper()
    handler: logging.Handler = logging.StreamHandler(sys.stderr)
    if to_file:
        try:
            handler = logging.FileHandler(to_file, encoding="utf-8")
        except OSError as exc:
            print(f"arbot: cannot write the log file {to_file} ({exc.strerror}); logging to stderr", file=sys.stderr)
    handler.setFormatter(RedactingFormatter(FORMAT))
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)


def chat_log_file() -> str:
    return os.environ.get("ARBOT_LOG_FILE") or "arbot.log"
