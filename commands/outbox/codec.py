"""A Reply as JSON for the outbox row, and back. Only plain data: the dispatcher in another
process (or after a restart) draws exactly what the use case said."""

from __future__ import annotations

import base64
from typing import Any

from commands.messages import Attachment, Button, ButtonStyle, Field, Reply, Row, Tone, Where


def encode(reply: Reply) -> dict[str, Any]:
    return {
        "title": reply.title,
        "text": reply.text,
        "tone": reply.tone.value,
        "private": reply.private,
        "fields": [_field(f) for f in reply.fields],
        "rows": [
            {
                "title": r.title,
                "detail": r.detail,
                "fields": [_field(f) for f in r.fields],
                "buttons": [_button(b) for b in r.buttons],
            }
            for r in reply.rows
        ],
        "buttons": [_button(b) for b in reply.buttons],
        "where": None if reply.where is None else {"channel": reply.where.channel, "thread": reply.where.thread},
        "to_user": reply.to_user,
        "replaces": reply.replaces,
        "thread_of": reply.thread_of,
        "mentions": list(reply.mentions),
        "track": reply.track,
        "files": [
            {"name": f.name, "mime": f.mime, "title": f.title, "data": base64.b64encode(f.data).decode("ascii")}
            for f in reply.files
        ],
    }


def decode(data: dict[str, Any]) -> Reply:
    where = data.get("where")
    return Reply(
        title=data["title"],
        text=data.get("text", ""),
        tone=Tone(data.get("tone", "info")),
        private=bool(data.get("private")),
        fields=tuple(Field(**f) for f in data.get("fields", ())),
        rows=tuple(
            Row(
                title=r["title"],
                detail=r.get("detail", ""),
                fields=tuple(Field(**f) for f in r.get("fields", ())),
                buttons=tuple(_unbutton(b) for b in r.get("buttons", ())),
            )
            for r in data.get("rows", ())
        ),
        buttons=tuple(_unbutton(b) for b in data.get("buttons", ())),
        where=None if where is None else Where(where["channel"], where.get("thread")),
        to_user=data.get("to_user"),
        replaces=data.get("replaces"),
        thread_of=data.get("thread_of"),
        mentions=tuple(data.get("mentions", ())),
        track=data.get("track"),
        files=tuple(
            Attachment(name=f["name"], mime=f["mime"], title=f.get("title", ""), data=base64.b64decode(f["data"]))
            for f in data.get("files", ())
        ),
    )


def _field(field: Field) -> dict[str, str]:
    return {"label": field.label, "value": field.value}


def _button(button: Button) -> dict[str, Any]:
    return {"label": button.label, "action": button.action, "value": dict(button.value), "style": button.style.value}


def _unbutton(data: dict[str, Any]) -> Button:
    return Button(
        label=data["label"],
        action=data["action"],
        value=dict(data.get("value", {})),
        style=ButtonStyle(data.get("style", "default")),
    )
