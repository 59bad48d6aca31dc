"""Slack settings from the environment, read once by the composition root.

``SLACK_BOT_TOKEN`` (xoxb-) is needed for anything; with ``SLACK_APP_TOKEN`` (xapp-) the app
talks to Slack over Socket Mode and needs no public URL; otherwise ``SLACK_SIGNING_SECRET``
lets Slack's HTTP requests to ``/slack/events`` be verified. ``SLACK_API_URL`` points the Web
API client elsewhere (a local fake in tests). Over HTTP, ``arbot serve`` acknowledges Slack from
a small front process (bot.slack.front); ``ARBOT_SLACK_FRONT=off`` serves Slack from the one
process instead."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_API_URL = "https://slack.com/api/"


@dataclass(frozen=True)
class SlackSettings:
    bot_token: str = ""
    signing_secret: str = ""
    app_token: str = ""
    api_url: str = DEFAULT_API_URL
    front: bool = False  # HTTP mode: acknowledge in a front process (bot.slack.front)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SlackSettings:
        env = os.environ if environ is None else environ
        api_url = env.get("SLACK_API_URL", "").strip() or DEFAULT_API_URL
        return cls(
            bot_token=env.get("SLACK_BOT_TOKEN", "").strip(),
            signing_secret=env.get("SLACK_SIGNING_SECRET", "").strip(),
            app_token=env.get("SLACK_APP_TOKEN", "").strip(),
            # slack_sdk joins method names onto the base URL, so it must end with a slash.
            api_url=api_url if api_url.endswith("/") else api_url + "/",
            front=env.get("ARBOT_SLACK_FRONT", "process").strip().lower() != "off",
        )

    @property
    def mode(self) -> str:
        """``socket`` with an app token, ``http`` with a signing secret, else ``off``."""
        if not self.bot_token:
            return "off"
        if self.app_token:
            return "socket"
        return "http" if self.signing_secret else "off"

    def problem(self) -> str | None:
        """What is missing when Slack is half configured (a token without its partner), so
        `arbot serve` says so instead of silently serving without Slack."""
        if self.bot_token and not (self.app_token or self.signing_secret):
            return (
                "SLACK_BOT_TOKEN is set but neither SLACK_SIGNING_SECRET (HTTP mode) nor "
                "SLACK_APP_TOKEN (Socket Mode) is"
            )
        if not self.bot_token and (self.app_token or self.signing_secret):
            return "SLACK_SIGNING_SECRET or SLACK_APP_TOKEN is set but SLACK_BOT_TOKEN is not"
        if self.app_token and not self.app_token.startswith("xapp-"):
            return "SLACK_APP_TOKEN must be an app-level token (it starts with xapp-)"
        return None
