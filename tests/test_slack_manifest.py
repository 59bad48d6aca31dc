"""The app manifest a newcomer creates the Slack app from declares everything the app listens
for (every slash command, every event), the scopes its Web API calls need, interactivity for
buttons and forms, and the Home tab; all pointing at the one endpoint the server mounts."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.slack.incoming import EVENTS, SLASH_COMMANDS
from bot.slack.mount import SLACK_PATH

MANIFEST = Path(__file__).resolve().parent.parent / "manifest" / "slack" / "manifest.yaml"
URL = f"https://YOUR-HOST{SLACK_PATH}"
# Web API method -> the bot scope Slack requires for it.
SCOPES_NEEDED = {
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "users.info": "users:read",
    "users.lookupByEmail": "users:read.email",
    "conversations.open": "im:write",
    "slash commands": "commands",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    "app_mention": "app_mentions:read",
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "message.im": "im:history",
}


def manifest() -> dict:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))


def test_every_slash_command_the_app_handles_is_declared() -> None:
    commands = {c["command"]: c for c in manifest()["features"]["slash_commands"]}
    assert set(commands) == set(SLASH_COMMANDS)
    for command in commands.values():
        assert command["url"] == URL
        assert command["usage_hint"] and command["description"]
        assert command["should_escape"] is False


def test_every_event_the_app_handles_is_subscribed() -> None:
    events = manifest()["settings"]["event_subscriptions"]
    assert set(events["bot_events"]) == set(EVENTS)
    assert events["request_url"] == URL


def test_the_scopes_cover_every_call_and_event() -> None:
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])
    assert set(SCOPES_NEEDED.values()) <= scopes
    assert "chat:write.public" in scopes, "the finance and approvals channels need no invite if public"


def test_buttons_forms_and_the_home_tab_are_enabled_and_socket_mode_is_a_switch() -> None:
    data = manifest()
    assert data["settings"]["interactivity"] == {"is_enabled": True, "request_url": URL}
    assert data["features"]["app_home"]["home_tab_enabled"] is True
    assert data["features"]["app_home"]["messages_tab_enabled"] is True
    assert data["features"]["bot_user"]["display_name"] == "arbot"
    assert data["settings"]["socket_mode_enabled"] is False
    assert "socket_mode_enabled" in MANIFEST.read_text(encoding="utf-8").split("_metadata")[0], (
        "the header explains how to switch to Socket Mode"
    )
