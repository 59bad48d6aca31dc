"""A real SMTP server on 127.0.0.1 for the email tests (aiosmtpd), and the small helpers the
mail tests share. Nothing the tests send leaves the machine: the server keeps every message it
accepts, and refuses at RCPT (550) the addresses it was told to refuse."""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from commands.context import AppContext
from commands.mail.config import MailSettings
from commands.mail.sender import MailReport, MailSender
from commands.messages import Action, ChatUser, Incoming, Reply, Where
from commands.router import handle

FROM = "ar@ridgeview.example"


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    encrypted: bool = False  # the session had switched to TLS (STARTTLS) before the message
    content: bytes = b""  # the message as it came over the wire (what a bounce returns)


@dataclass
class Recorder:
    """The server's handler: keeps what it accepted, refuses ``refused`` at RCPT for good and
    ``deferred`` for now (450: try later)."""

    received: list[Received] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)
    deferred: set[str] = field(default_factory=set)

    async def handle_RCPT(
        self,
        server: Any,
        session: Any,
        envelope: Any,
        address: str,  # noqa: N802 (aiosmtpd's name)
        rcpt_options: list[str],
    ) -> str:
        if address.lower() in self.refused:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if address.lower() in self.deferred:
            return f"450 4.2.1 <{address}>: Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                parsed,
                encrypted=session.ssl is not None,
                content=bytes(envelope.original_content or envelope.content),
            )
        )
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server(*, certificate: Path | None = None) -> Iterator[tuple[Recorder, MailSettings]]:
    """A running server and the settings that reach it (smtp://, no login). With a
    ``certificate`` (from :func:`self_signed`) it offers STARTTLS and takes mail only after it,
    and the settings trust that certificate."""
    recorder = Recorder()
    tls: dict[str, Any] = {}
    if certificate is not None:
        server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_side.load_cert_chain(certificate, certificate.with_suffix(".key"))
        tls = {"tls_context": server_side, "require_starttls": True}
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port(), **tls)
    controller.start()
    try:
        yield (
            recorder,
            MailSettings(
                host="127.0.0.1",
                port=controller.port,
                sender=FROM,
                timeout=5,
                ca_file=str(certificate) if certificate is not None else None,
            ),
        )
    finally:
        controller.stop()


def self_signed(folder: Path) -> Path:
    """A certificate for 127.0.0.1 (and its key beside it, ``.key``), valid for a day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = folder / "smtp.pem"
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    path.with_suffix(".key").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return path


def free_port() -> int:
    """A port nothing listens on (bound and let go): the mail server that is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def send_mail(ctx: AppContext, settings: MailSettings) -> MailReport:
    """One round of the mail sender, as ``arbot serve`` runs it after a commit."""
    return MailSender(ctx, settings).run_once()


def press(ctx: AppContext, email: str, reply: Reply, label: str, **values: str) -> list[Reply]:
    """``email`` presses ``label`` on a private answer (its data merged with ``values``, as a
    submitted form sends it: the form's action for Edit)."""
    button = next(b for b in reply.buttons if b.label == label)
    return act(ctx, email, "form.email" if values else button.action, {**button.value, **values})


def act(ctx: AppContext, email: str, name: str, value: dict[str, Any]) -> list[Reply]:
    """``email`` presses a button (or submits a form) named ``name`` carrying ``value``."""
    user = ChatUser(platform="test", user_id=email, email=email)
    return handle(ctx, Incoming(user=user, where=Where(f"dm:{email}"), action=Action(name, dict(value))))


def text_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def attachments(message: EmailMessage) -> list[tuple[str, str, bytes]]:
    return [
        (str(p.get_filename()), p.get_content_type(), bytes(p.get_payload(decode=True)))
        for p in message.iter_attachments()
    ]


def postfix_bounce(
    received: Received,
    *,
    status: str = "5.1.1",
    action: str = "failed",
    diagnostic: str = "Recipient address rejected: User unknown in virtual mailbox table",
    mta: str = "mx.acmeortho.example",
) -> bytes:
    """The delivery status notification Postfix returns for ``received`` (RFC 3464): a
    multipart/report with the explanation, the message/delivery-status fields and the
    original's headers as text/rfc822-headers, addressed to the envelope sender."""
    from email.message import Message
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText
    from email.utils import format_datetime, make_msgid

    [recipient] = received.recipients
    code = "550" if status.startswith("5") else "451"
    said = f"{code} {status} <{recipient}>: {diagnostic}"
    report = MIMEMultipart("report", report_type="delivery-status")
    report["From"] = f"MAILER-DAEMON@{mta} (Mail Delivery System)"
    report["To"] = received.sender
    report["Subject"] = (
        "Undelivered Mail Returned to Sender" if action == "failed" else "Delayed Mail (still being retried)"
    )
    report["Date"] = format_datetime(datetime(2026, 11, 23, 15, 30, tzinfo=UTC))
    report["Message-ID"] = make_msgid(domain=mta)
    report["Auto-Submitted"] = "auto-replied"
    report.attach(
        MIMEText(
            f"This is the mail system at host {mta}.\n\nI'm sorry to have to inform you that your message could\n"
            f"not be delivered to one or more recipients.\n\n<{recipient}>: host {mta}[192.0.2.25] said:\n"
            f"    {said} (in reply to RCPT TO command)\n"
        )
    )
    per_message, per_recipient = Message(), Message()
    per_message["Reporting-MTA"] = f"dns; {mta}"
    per_message["X-Postfix-Queue-ID"] = "4F2D1C0042"
    per_message["X-Postfix-Sender"] = f"rfc822; {received.sender}"
    per_message["Arrival-Date"] = "Mon, 23 Nov 2026 09:00:01 -0600 (CST)"
    per_recipient["Final-Recipient"] = f"rfc822; {recipient}"
    per_recipient["Original-Recipient"] = f"rfc822;{recipient}"
    per_recipient["Action"] = action
    per_recipient["Status"] = status
    per_recipient["Remote-MTA"] = f"dns; {mta}"
    per_recipient["Diagnostic-Code"] = f"smtp; {said}"
    delivery_status = Message()
    delivery_status["Content-Description"] = "Delivery report"
    delivery_status.set_type("message/delivery-status")
    delivery_status.set_payload([per_message, per_recipient])
    report.attach(delivery_status)
    headers = received.content.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0].decode()
    returned = MIMEText(headers.replace("\r\n", "\n") + "\n", "rfc822-headers")
    returned["Content-Description"] = "Undelivered Message Headers"
    report.attach(returned)
    return report.as_bytes()
