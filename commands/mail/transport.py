"""One message to one recipient over SMTP (stdlib smtplib), and what went wrong said as one of
two kinds: the server refused the recipient or the message (a 5xx: retrying will not help, a
person must fix the address) or the server could not be reached or answered 4xx (try again)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from commands.mail.config import MailSettings


class MailRefused(Exception):
    """The server said no for good (5xx): a bad or unknown recipient, a message it will not take."""


class MailUnreachable(Exception):
    """No answer, no connection, or a temporary refusal (4xx): the message may go later."""


def send_message(settings: MailSettings, message: EmailMessage) -> None:
    """Deliver ``message`` (its To, From and Message-ID already set), or raise one of the two.
    The envelope sender is the bounce address when one is set, so late bounces reach arbot."""
    try:
        with _connect(settings) as smtp:
            smtp.ehlo()
            if not settings.implicit_tls and smtp.has_extn("starttls"):
                smtp.starttls(context=_tls(settings))
                smtp.ehlo()
            if settings.username:
                smtp.login(settings.username, settings.password or "")
            smtp.send_message(message, from_addr=settings.envelope_sender)
    except smtplib.SMTPRecipientsRefused as exc:
        code, reason = next(iter(exc.recipients.values()))
        raise _by_code(code, reason) from exc
    except smtplib.SMTPResponseException as exc:
        raise _by_code(exc.smtp_code, exc.smtp_error) from exc
    except (TimeoutError, OSError, smtplib.SMTPException) as exc:
        raise MailUnreachable(f"mail server {settings.host}:{settings.port} not reachable: {exc}") from exc


def _connect(settings: MailSettings) -> smtplib.SMTP:
    if settings.implicit_tls:
        return smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=_tls(settings))
    return smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)


def _tls(settings: MailSettings) -> ssl.SSLContext:
    """Certificates are checked against the system's CAs (and ``ca_file`` when given)."""
    return ssl.create_default_context(cafile=settings.ca_file)


def _by_code(code: int, reason: bytes | str) -> Exception:
    text = reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)
    said = f"{code} {text}".strip()
    return MailRefused(said) if 500 <= code < 600 else MailUnreachable(said)
