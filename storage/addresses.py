"""Is this an email address or a phone number? One check for the ``contact`` command, the
billing emails imports bring and the mail settings, so an address the bot would refuse to send
to never gets stored."""

from __future__ import annotations

import re

MAX_EMAIL_LENGTH = 254  # contacts.email
# One @, a local part without spaces, a domain with at least one dot and letters at the end.
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}"
)
_PHONE_CHARS = re.compile(r"\+?[0-9 ()./-]+(?:\s*(?:x|ext\.?)\s*[0-9]{1,6})?", re.IGNORECASE)
MIN_PHONE_DIGITS, MAX_PHONE_DIGITS = 7, 15  # E.164 allows at most 15


def read_email(text: str) -> str | None:
    """The address, domain in lower case, or None when it is not one."""
    text = text.strip().strip("<>")
    if len(text) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(text) or ".." in text:
        return None
    local, _, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}"


def read_phone(text: str) -> str | None:
    """The number as written (spaces tidied), or None when it is not a phone number."""
    text = " ".join(text.split())
    if not _PHONE_CHARS.fullmatch(text):
        return None
    main = re.split(r"(?i)x|ext", text)[0]
    digits = sum(ch.isdigit() for ch in main)
    return text if MIN_PHONE_DIGITS <= digits <= MAX_PHONE_DIGITS else None


def looks_like_address(text: str) -> bool:
    """An ``@`` means the person meant an email (so a bad one is called a bad email)."""
    return "@" in text
