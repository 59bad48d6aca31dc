"""Configuration from the environment. Read once by the composition root."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from commands.mail.config import MailConfigError, MailSettings, parse_smtp_url
from storage.db import default_database_url

EXAMPLE_TEAM_FILE = Path(__file__).with_name("team.example.toml")


@dataclass(frozen=True)
class Settings:
    database_url: str
    team_file: Path
    policy_file: Path | None
    mail: MailSettings | None = None

    @classmethod
    def from_env(cls) -> Settings:
        """``DATABASE_URL`` (default: arbot.db here), ``ARBOT_TEAM_FILE`` (default: ./team.toml,
        else the example team), ``ARBOT_POLICY_FILE`` (default: the built-in ranking policy),
        ``SMTP_URL`` and ``SMTP_FROM`` (customer email; both or neither), ``SMTP_BOUNCE_ADDRESS``
        (optional envelope sender, where bounces go)."""
        team = os.environ.get("ARBOT_TEAM_FILE") or ("team.toml" if Path("team.toml").exists() else "")
        policy = os.environ.get("ARBOT_POLICY_FILE")
        return cls(
            database_url=default_database_url(),
            team_file=Path(team) if team else EXAMPLE_TEAM_FILE,
            policy_file=Path(policy) if policy else None,
            mail=mail_from_env(os.environ),
        )


def mail_from_env(environ: Mapping[str, str]) -> MailSettings | None:
    """The mail server, or None when ``SMTP_URL`` is not set. A half or wrong setting stops
    the start with a message (MailConfigError) rather than failing at the first email."""
    url, sender = environ.get("SMTP_URL", "").strip(), environ.get("SMTP_FROM", "").strip()
    if not url:
        return None
    if not sender:
        raise MailConfigError("SMTP_URL is set but SMTP_FROM is not: which address does email come from?")
    return parse_smtp_url(
        url,
        sender,
        ca_file=environ.get("SMTP_CA_FILE", "").strip() or None,
        bounce_address=environ.get("SMTP_BOUNCE_ADDRESS", "").strip() or None,
    )
