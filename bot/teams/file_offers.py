"""Files in Teams: a workbook reaches a person through Teams' file consent flow.

A bot cannot attach a file to a Teams message. It sends a *file consent card* naming the file;
when the person accepts, Teams sends a ``fileConsent/invoke`` with an upload URL in their
OneDrive, the bot PUTs the bytes there and posts a *file info card* that opens it. This works in
personal chats only, so channel posts name the file and say where to get it.

The accept can come much later, after a restart, or to another replica, so the bytes wait in the
database (``file_offers``) under a hash of name and content, which is all the card carries. An
offer is kept for :data:`KEPT`; offering the same file again reuses it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp
from botbuilder.schema import Activity, ActivityTypes, Attachment
from botbuilder.schema.teams import FileConsentCard
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from commands.clock import Clock
from commands.messages import Attachment as File
from storage.models import FileOffer

CONSENT_CARD = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO_CARD = "application/vnd.microsoft.teams.card.file.info"
CONSENT_INVOKE = "fileConsent/invoke"
KEPT = timedelta(days=7)
UPLOAD_TIMEOUT_SECONDS = 60


class UploadFailed(Exception):
    """OneDrive did not take the file (the message says what it answered)."""


@dataclass(frozen=True)
class Consent:
    """A person's answer to a file consent card, read from the invoke's value."""

    accepted: bool
    offer: str | None
    upload_url: str | None
    content_url: str | None
    name: str | None
    unique_id: str | None
    file_type: str | None


class Offers:
    """The files waiting to be accepted, in the database."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self._sessions, self._clock = sessions, clock

    def offer(self, file: File) -> Attachment:
        """Keep ``file`` and return the consent card that offers it (same file, same offer)."""
        key = hashlib.sha256(file.name.encode() + b"\0" + file.data).hexdigest()
        now = self._clock.now()
        try:
            with self._sessions.begin() as session:
                session.execute(delete(FileOffer).where(FileOffer.offered_at < now - KEPT))
                kept = session.get(FileOffer, key)
                if kept is None:
                    session.add(
                        FileOffer(key=key, name=file.name[:200], mime=file.mime[:100], data=file.data, offered_at=now)
                    )
                else:
                    kept.offered_at = now
        except IntegrityError:  # offered at the same moment by another send: it is there
            pass
        context = {"offer": key}
        card = FileConsentCard(
            description=file.title or file.name,
            size_in_bytes=len(file.data),
            accept_context=context,
            decline_context=context,
        )
        return Attachment(content_type=CONSENT_CARD, name=file.name, content=card.serialize())

    def taken(self, key: str) -> FileOffer | None:
        """The offered file, or None when it expired or never was."""
        with self._sessions() as session:
            row = session.get(FileOffer, key)
            if row is None or row.offered_at < self._clock.now() - KEPT:
                return None
            session.expunge(row)
            return row


def read_consent(value: Any) -> Consent:
    """The invoke's value; missing or odd parts come back as None."""
    value = value if isinstance(value, dict) else {}
    context = value.get("context") if isinstance(value.get("context"), dict) else {}
    info = value.get("uploadInfo") if isinstance(value.get("uploadInfo"), dict) else {}

    def text(mapping: dict[str, Any], key: str) -> str | None:
        found = mapping.get(key)
        return found if isinstance(found, str) and found else None

    return Consent(
        accepted=value.get("action") == "accept",
        offer=text(context, "offer"),
        upload_url=text(info, "uploadUrl"),
        content_url=text(info, "contentUrl"),
        name=text(info, "name"),
        unique_id=text(info, "uniqueId"),
        file_type=text(info, "fileType"),
    )


async def upload(url: str, data: bytes) -> None:
    """PUT the whole file to the upload session Teams opened (one range: our files are small)."""
    headers = {"Content-Length": str(len(data)), "Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}"}
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=UPLOAD_TIMEOUT_SECONDS)) as http,
            http.put(url, data=data, headers=headers) as response,
        ):
            if response.status not in (200, 201):
                raise UploadFailed(f"OneDrive answered {response.status}")
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise UploadFailed(f"OneDrive could not be reached ({type(exc).__name__})") from exc


def file_info(consent: Consent) -> Activity:
    """The message that shows the uploaded file, opened from the person's OneDrive."""
    card = Attachment(
        content_type=FILE_INFO_CARD,
        content_url=consent.content_url,
        name=consent.name,
        content={"uniqueId": consent.unique_id, "fileType": consent.file_type},
    )
    return Activity(type=ActivityTypes.message, attachments=[card])
