"""Reading a bounce: the raw bytes of one incoming message, and what it says about a message we
sent (which one, to whom, failed for good or only delayed), or why it says nothing.

Two shapes are read. The standard one (RFC 3464): ``multipart/report;
report-type=delivery-status`` with a ``message/delivery-status`` part (per recipient: Action,
Status, Final-Recipient, Diagnostic-Code) and the original's headers in a ``message/rfc822`` or
``text/rfc822-headers`` part. And the common non-standard one: a plain "Undelivered Mail
Returned to Sender" or "Delivery Status Notification (Failure)" from the mailer daemon with the
original's headers quoted in its text. Whatever the bytes are, the answer is a value, never an
exception: a mail server pipes anything to us."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import Message
from email.parser import BytesHeaderParser

MAX_BYTES = 10 * 1024 * 1024  # a bounce carries headers, maybe the original: far below this
FAILED, DELAYED = "failed", "delayed"

_BOUNCE_SUBJECT = re.compile(
    r"undeliver|returned to sender|delivery status notification|delivery failure|failure notice|"
    r"mail delivery (failed|subsystem)|delivery has failed|could not be delivered|delayed mail|"
    r"delivery delayed|warning: could not send",
    re.IGNORECASE,
)
_DAEMON_SENDER = re.compile(r"mailer-daemon|postmaster|mail delivery (subsystem|system)", re.IGNORECASE)
_DELAY_SUBJECT = re.compile(r"delay|warning|not yet been delivered", re.IGNORECASE)
_MESSAGE_ID_LINE = re.compile(r"^message-id:\s*(<[!-;=?-~]{1,290}>)", re.IGNORECASE | re.MULTILINE)
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_ADDRESS = re.compile(r"<?([^\s<>@;:\"\x00-\x1f\x7f]{1,64}@[A-Za-z0-9.-]{1,253})>?")


@dataclass(frozen=True)
class Bounce:
    """What a bounce says: the Message-ID of our message, the recipient that failed, the status
    code (``5.1.1``), the receiving server's words, and whether it failed for good or is delayed."""

    message_id: str
    recipient: str | None
    status: str | None
    diagnostic: str | None
    action: str  # FAILED | DELAYED

    @property
    def reason(self) -> str:
        """The status and the server's words, as one line for a person."""
        return " ".join(p for p in (self.status, self.diagnostic) if p) or "no reason given"


@dataclass(frozen=True)
class NotABounce:
    """Why the message says nothing we can act on (not a bounce, a success report, no Message-ID)."""

    why: str


def read_bounce(raw: bytes) -> Bounce | NotABounce:
    """What ``raw`` says about a message we sent, or why it says nothing."""
    if len(raw) > MAX_BYTES:
        return NotABounce(f"message too large ({len(raw)} bytes; at most {MAX_BYTES})")
    if not raw.strip():
        return NotABounce("empty message")
    try:
        message = message_from_bytes(raw, policy=policy.compat32)
        if message.get_content_type() == "multipart/report":
            return _from_report(message)
        return _from_plain(message)
    except Exception as exc:  # bytes no parser expected: said, never raised
        return NotABounce(f"unreadable message ({type(exc).__name__}: {exc})"[:300])


def _from_report(message: Message) -> Bounce | NotABounce:
    """RFC 3464: the per-recipient fields, and the original's Message-ID from its returned headers."""
    report_type = str(message.get_param("report-type") or "").lower()
    if report_type != "delivery-status":
        return NotABounce(f"a report, but not of delivery status ({_one_line(report_type)[:40] or 'none given'})")
    fields = _recipient_fields(message)
    if fields is None:
        return NotABounce("a delivery report without a message/delivery-status part")
    action = _one_line(fields.get("action") or "").lower()[:40]
    status = _status(fields.get("status") or "")
    if action not in (FAILED, DELAYED):
        if action or status is None or status[0] == "2":
            return NotABounce(f"a delivery report that says {action or 'nothing'}, not failed or delayed")
        action = FAILED if status[0] == "5" else DELAYED
    message_id = _original_message_id(message)
    if message_id is None:
        return NotABounce("a delivery report without the original's Message-ID")
    return Bounce(
        message_id=message_id,
        recipient=_address(fields.get("final-recipient") or fields.get("original-recipient") or ""),
        status=status,
        diagnostic=_diagnostic(fields.get("diagnostic-code") or ""),
        action=action,
    )


def _recipient_fields(message: Message) -> dict[str, str] | None:
    """The first recipient block that failed (else the first one), as lower-case field names."""
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = [dict((k.lower(), str(v)) for k, v in b.items()) for b in _blocks(part)]
        recipients = [b for b in blocks if "action" in b or "final-recipient" in b]
        failed = [b for b in recipients if b.get("action", "").strip().lower() == FAILED]
        return (failed or recipients or [{}])[0]
    return None


def _blocks(part: Message) -> list[Message]:
    """The header blocks of a delivery-status part, whether the parser split them or not."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [b for b in payload if isinstance(b, Message)]
    text = part.get_payload(decode=True)
    if not isinstance(text, bytes):
        return []
    chunks = re.split(rb"\r?\n\s*\r?\n", text)
    return [BytesHeaderParser(policy=policy.compat32).parsebytes(c) for c in chunks if c.strip()]


def _original_message_id(message: Message) -> str | None:
    """From the returned original (message/rfc822) or its headers (text/rfc822-headers)."""
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, Message) and inner.get("Message-ID"):
                return _message_id(str(inner["Message-ID"]))
        elif kind in ("text/rfc822-headers", "message/rfc822-headers"):
            data = part.get_payload(decode=True)
            if isinstance(data, bytes):
                found = BytesHeaderParser(policy=policy.compat32).parsebytes(data).get("Message-ID")
                if found:
                    return _message_id(str(found))
    return None


def _from_plain(message: Message) -> Bounce | NotABounce:
    """A bounce in words: a bounce subject from the mailer daemon, the original's headers quoted."""
    subject, sender = str(message.get("Subject", "")), str(message.get("From", ""))
    if not _BOUNCE_SUBJECT.search(subject) and not _DAEMON_SENDER.search(sender):
        return NotABounce("not a bounce (no delivery report, no bounce subject or sender)")
    text = _all_text(message)
    quoted = [m.group(1) for m in _MESSAGE_ID_LINE.finditer(text)]
    own = _message_id(str(message.get("Message-ID", "")))
    quoted = [q for q in quoted if q != own]
    if not quoted:
        return NotABounce(f"a bounce ({subject[:80]!r}) that quotes no Message-ID")
    status = _status(text)
    delayed = (status is not None and status.startswith("4")) or (
        status is None and bool(_DELAY_SUBJECT.search(subject))
    )
    recipient = re.search(r"(?im)^\s*(?:final-recipient|original-recipient):\s*(.+)$", text)
    return Bounce(
        message_id=quoted[0],
        recipient=_address(recipient.group(1)) if recipient else None,
        status=status,
        diagnostic=_diagnostic(_diagnostic_line(text)),
        action=DELAYED if delayed else FAILED,
    )


def _all_text(message: Message) -> str:
    """Every text part and every returned header block, decoded, one after another."""
    texts = []
    for part in message.walk():
        if part.is_multipart() or part.get_content_maintype() not in ("text", "message"):
            continue
        data = part.get_payload(decode=True)
        if isinstance(data, bytes):
            texts.append(data.decode(part.get_content_charset() or "utf-8", errors="replace"))
        elif isinstance(part.get_payload(), list):
            texts.extend(str(inner) for inner in part.get_payload() if isinstance(inner, Message))
    return "\n".join(texts)


def _diagnostic_line(text: str) -> str:
    """The receiving server's words: a Diagnostic-Code field, else the first line with a code."""
    field = re.search(r"(?im)^\s*diagnostic-code:\s*(.+(?:\n[ \t].+)*)", text)
    if field:
        return field.group(1)
    said = re.search(r"(?m)^.*\b[45]\d\d[ -][245]\.\d{1,3}\.\d{1,3}\b.*$", text)
    return said.group(0) if said else ""


def _message_id(value: str) -> str | None:
    """``<id@host>`` as our rows store it, or None when ``value`` holds none."""
    found = re.search(r"<[!-;=?-~]{1,290}>", value)  # printable ASCII but < and >, as RFC 5322 has it
    if found:
        return found.group(0)
    bare = re.fullmatch(r"[!-;=?-~]{1,290}", value.strip())
    return f"<{bare.group(0)}>" if bare and "@" in bare.group(0) else None


def _one_line(value: str) -> str:
    """``value`` with control characters (a NUL no database text takes, a newline that would
    forge a log line) turned into spaces, and runs of spaces into one."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in value).split())


def _status(value: str) -> str | None:
    found = _STATUS.search(value)
    return ".".join(found.groups()) if found else None


def _address(value: str) -> str | None:
    """``rfc822; raj@example.com`` (or ``<raj@example.com>``) as the address alone."""
    found = _ADDRESS.search(value.partition(";")[2] or value)
    return found.group(1) if found else None


def _diagnostic(value: str) -> str | None:
    """The server's words on one line (``smtp; 550 5.1.1 ...`` without its type), at most 300 chars."""
    words = _one_line(value)
    if ";" in words[:12]:
        words = words.partition(";")[2].strip()
    return words[:300] or None
