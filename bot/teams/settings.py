"""Teams settings from the environment: ``MICROSOFT_APP_ID``, ``MICROSOFT_APP_PASSWORD``,
``MICROSOFT_APP_TENANT_ID``, ``MICROSOFT_APP_TYPE``.

Bot Framework treats an empty app id as "authentication off", which on a public endpoint means
anyone may post activities as anyone. So an empty app id does not serve the endpoint at all,
unless dev mode was asked for explicitly (``arbot serve --dev``), which is then said loudly."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

APP_TYPES = {"multitenant": "MultiTenant", "singletenant": "SingleTenant", "userassignedmsi": "UserAssignedMSI"}
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
DEV_WARNING = (
    "Teams endpoint /api/messages is served WITHOUT authentication (--dev): anyone who "
    "can reach it can act as any team member. Never expose it beyond this machine."
)


class TeamsSettingsError(ValueError):
    """The Teams settings contradict each other; said before anything is served."""


@dataclass(frozen=True)
class TeamsSettings:
    app_id: str = ""
    app_password: str = ""
    tenant_id: str = ""
    app_type: str = "MultiTenant"
    dev: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, dev: bool = False) -> TeamsSettings:
        env = os.environ if env is None else env
        raw_type = env.get("MICROSOFT_APP_TYPE", "").strip() or "MultiTenant"
        app_type = APP_TYPES.get(raw_type.lower())
        if app_type is None:
            raise TeamsSettingsError(
                f"MICROSOFT_APP_TYPE must be one of {', '.join(APP_TYPES.values())}, not {raw_type!r}"
            )
        settings = cls(
            app_id=env.get("MICROSOFT_APP_ID", "").strip(),
            app_password=env.get("MICROSOFT_APP_PASSWORD", ""),
            tenant_id=env.get("MICROSOFT_APP_TENANT_ID", "").strip(),
            app_type=app_type,
            dev=dev,
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse combinations Bot Framework would only reject at the first message."""
        if self.app_id and not _GUID.match(self.app_id):
            raise TeamsSettingsError(f"MICROSOFT_APP_ID must be the bot's app id (a GUID), not {self.app_id!r}")
        if self.app_type == "SingleTenant" and self.app_id and not (self.tenant_id and self.app_password):
            raise TeamsSettingsError(
                "MICROSOFT_APP_TYPE=SingleTenant needs MICROSOFT_APP_TENANT_ID and MICROSOFT_APP_PASSWORD"
            )
        if self.app_type == "UserAssignedMSI" and self.app_id and not self.tenant_id:
            raise TeamsSettingsError("MICROSOFT_APP_TYPE=UserAssignedMSI needs MICROSOFT_APP_TENANT_ID")

    @property
    def served(self) -> bool:
        """Whether ``/api/messages`` exists at all (a Slack-only deployment answers 404 there)."""
        return bool(self.app_id) or self.dev

    @property
    def auth_disabled(self) -> bool:
        return not self.app_id

    def health(self) -> dict[str, Any]:
        """What ``/healthz`` says about Teams; dev mode is named so nobody mistakes it for production."""
        if not self.served:
            return {"teams": "off"}
        if self.auth_disabled:
            return {"teams": "dev", "teams_authentication": "OFF", "warning": DEV_WARNING}
        return {"teams": "on", "teams_app_type": self.app_type}

    def bot_framework_config(self) -> SimpleNamespace:
        """The attribute bag ``ConfigurationBotFrameworkAuthentication`` reads."""
        return SimpleNamespace(
            APP_ID=self.app_id or None,
            APP_PASSWORD=self.app_password or None,
            APP_TENANTID=self.tenant_id or None,
            APP_TYPE=self.app_type,
        )


def teams_settings_of(settings: object) -> TeamsSettings:
    """The Teams part of whatever settings the server was built with: a :class:`TeamsSettings`,
    an object carrying one as ``.teams``, or else the environment (with the object's ``dev`` flag)."""
    if isinstance(settings, TeamsSettings):
        return settings
    nested = getattr(settings, "teams", None)
    if isinstance(nested, TeamsSettings):
        return nested
    return TeamsSettings.from_env(dev=bool(getattr(settings, "dev", False)))


def settings_problem(env: Mapping[str, str] | None = None) -> str | None:
    """What is wrong with the Teams settings, for ``arbot serve`` to say before it starts."""
    try:
        TeamsSettings.from_env(env)
    except TeamsSettingsError as exc:
        return str(exc)
    return None
