"""Adapters and the composition root: the CLI, the terminal chat, and (later) Slack and Teams.
Only modules here may import a chat SDK."""
