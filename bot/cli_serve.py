"""``arbot serve``: the chat endpoints and the scheduler in one process (see bot/server.py).

Slack runs when its settings are there (docs/slack.md); a half-configured Slack is refused with
what is missing rather than served without it."""

from __future__ import annotations

import argparse
import sys

from bot.log_setup import configure as configure_logging
from bot.server import ServerSettings, serve
from bot.slack.mount import SLACK_PATH
from bot.teams.settings import settings_problem as teams_settings_problem
from commands.context import AppContext


def run(ctx: AppContext, args: argparse.Namespace) -> int:
    settings = ServerSettings.from_env(
        host=getattr(args, "host", None), port=getattr(args, "port", None), dev=bool(getattr(args, "dev", False))
    )
    problem = settings.slack.problem()
    if problem:
        print(f"arbot serve: {problem} (see docs/slack.md)", file=sys.stderr)
        return 2
    teams_problem = teams_settings_problem()
    if teams_problem:
        print(f"arbot serve: {teams_problem} (see docs/teams.md)", file=sys.stderr)
        return 2
    configure_logging("DEBUG" if settings.dev else "INFO")
    print(banner(settings), flush=True)
    serve(ctx, settings)
    return 0


def banner(settings: ServerSettings) -> str:
    base = f"http://{settings.host}:{settings.port}"
    front = " (acknowledged by a front process)" if settings.slack.front else ""
    slack = {
        "http": f"Slack requests at {base}{SLACK_PATH}{front}",
        "socket": "Slack over Socket Mode",
        "off": "Slack off (set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET or SLACK_APP_TOKEN)",
    }
    scheduler = "scheduler off (--dev)" if settings.dev else "scheduler on"
    return f"arbot serving on {base}: {slack[settings.slack.mode]}; health at {base}/healthz; {scheduler}"
