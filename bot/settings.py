"""Configuration from the environment. Read once by the composition root."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from storage.db import default_database_url

EXAMPLE_TEAM_FILE = Path(__file__).with_name("team.example.toml")


@dataclass(frozen=True)
class Settings:
    database_url: str
    team_file: Path
    policy_file: Path | None

    @classmethod
    def from_env(cls) -> Settings:
        """``DATABASE_URL`` (default: arbot.db here), ``ARBOT_TEAM_FILE`` (default: ./team.toml,
        else the example team), ``ARBOT_POLICY_FILE`` (default: the built-in ranking policy)."""
        team = os.environ.get("ARBOT_TEAM_FILE") or ("team.toml" if Path("team.toml").exists() else "")
        policy = os.environ.get("ARBOT_POLICY_FILE")
        return cls(
            database_url=default_database_url(),
            team_file=Path(team) if team else EXAMPLE_TEAM_FILE,
            policy_file=Path(policy) if policy else None,
        )
