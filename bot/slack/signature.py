"""Slack's request signature (the v0 scheme), checked on the raw bytes.

Kept apart from the Bolt app so that the acknowledging front (bot.slack.front), which imports
neither Bolt nor the Slack SDK, checks requests exactly as the server behind it does."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

SIGNATURE_MAX_AGE_SECONDS = 60 * 5  # Slack's rule, and Bolt's
TIMESTAMP_MAX_DIGITS = 12  # seconds since 1970 have 10 digits until the year 2286
REFUSED_BODY = {"error": "invalid request"}  # what Bolt answers an unverified request with


def signature_problem(secret: bytes, body: bytes, headers: Mapping[str, str], *, now: float) -> str | None:
    """Why this request is not provably from Slack (None when it is): Slack's v0 scheme, HMAC-SHA256
    of ``v0:{timestamp}:{body}`` with the signing secret, no more than five minutes old."""
    timestamp = headers.get("X-Slack-Request-Timestamp")
    signature = headers.get("X-Slack-Signature")
    if not timestamp:
        return "no X-Slack-Request-Timestamp header"
    if not signature:
        return "no X-Slack-Signature header"
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > TIMESTAMP_MAX_DIGITS:
        return "its X-Slack-Request-Timestamp is not a number of seconds"
    if abs(now - int(timestamp)) > SIGNATURE_MAX_AGE_SECONDS:
        return "its X-Slack-Request-Timestamp is more than 5 minutes away from now"
    expected = "v0=" + hmac.new(secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        return "its X-Slack-Signature does not match the body"
    return None
