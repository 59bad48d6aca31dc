"""How the bot reaches its mail server: ``SMTP_URL``, ``SMTP_FROM`` and ``SMTP_BOUNCE_ADDRESS``,
read by the composition root and handed to the core as a :class:`MailSettings` (the core reads
no environment)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from storage.addresses import read_email

DEFAULT_PORTS = {"smtp": 587, "smtps": 465}
TIMEOUT_SECONDS = 20.0


class MailConfigError(ValueError):
    """SMTP_URL or SMTP_FROM says something the bot cannot use."""


@dataclass(frozen=True)
class MailSettings:
    """``smtp://`` upgrades to TLS with STARTTLS when the server offers it; ``smtps://`` speaks
    TLS from the first byte."""

    host: str
    port: int
    sender: str
    implicit_tls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = TIMEOUT_SECONDS
    ca_file: str | None = None  # trust this CA too (a server with a private certificate)
    # The envelope sender (MAIL FROM, the Return-Path the recipient's server writes): where
    # bounces go, a mailbox piped to `arbot mail bounce`. None: the From address, as before.
    bounce_address: str | None = None

    @property
    def envelope_sender(self) -> str:
        return self.bounce_address or self.sender

    def __repr__(self) -> str:  # never the password in a log line
        return f"MailSettings(host={self.host!r}, port={self.port}, sender={self.sender!r})"


def parse_smtp_url(
    url: str, sender: str, *, ca_file: str | None = None, bounce_address: str | None = None
) -> MailSettings:
    """``smtp://user:pass@host:587`` or ``smtps://host``; the sender address (and the bounce
    address, when given) must be an address."""
    parts = urlsplit(url.strip())
    if parts.scheme not in DEFAULT_PORTS:
        raise MailConfigError(f"SMTP_URL must start with smtp:// or smtps://, not {parts.scheme or url[:10]!r}")
    if not parts.hostname:
        raise MailConfigError("SMTP_URL names no host")
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError as exc:
        raise MailConfigError(f"SMTP_URL has a bad port: {exc}") from exc
    address = read_email(sender)
    if address is None:
        raise MailConfigError(f"SMTP_FROM must be an email address, not {sender!r}")
    bounces = read_email(bounce_address) if bounce_address else None
    if bounce_address and bounces is None:
        raise MailConfigError(f"SMTP_BOUNCE_ADDRESS must be an email address, not {bounce_address!r}")
    return MailSettings(
        host=parts.hostname,
        port=port,
        sender=address,
        implicit_tls=parts.scheme == "smtps",
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        ca_file=ca_file or None,
        bounce_address=bounces,
    )
