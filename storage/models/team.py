"""Team members as the database knows them. The team file (TOML) is the source of truth for
roles; it is synced into this table so activities, promises and accounts can point at people."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class TeamMember(Base):
    __tablename__ = "team_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Space-separated role names, e.g. "collector manager"; parsed by commands.team.
    roles: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(self.roles.split())
