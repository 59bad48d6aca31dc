"""The wording of customer email: a team's own templates in its folder (``mail/`` next to the
team file), else the ones shipped here. A template is plain text with ``$names`` filled in; its
first line may be ``Subject: ...``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from string import Template

SHIPPED = Path(__file__).with_name("templates")


@dataclass(frozen=True)
class Filled:
    subject: str
    body: str


def fill(name: str, values: Mapping[str, str], *, folder: Path | None) -> Filled:
    """Template ``name`` (``followup.txt``) with ``values``; an unknown ``$name`` stays as written."""
    text = read(name, folder=folder)
    subject, body = "", text
    first, _, rest = text.partition("\n")
    if first.lower().startswith("subject:"):
        subject, body = first.split(":", 1)[1].strip(), rest
    return Filled(Template(subject).safe_substitute(values), Template(body).safe_substitute(values).strip())


def read(name: str, *, folder: Path | None) -> str:
    """The team's copy when it has one, else the shipped one."""
    own = folder / name if folder is not None else None
    path = own if own is not None and own.is_file() else SHIPPED / name
    return path.read_text(encoding="utf-8")
