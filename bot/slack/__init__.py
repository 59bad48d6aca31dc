"""The Slack adapter: the only code that imports slack_bolt or slack_sdk. Slack payloads become
the core's neutral messages (incoming), the core's replies become Block Kit (render, modals,
home), and the Messenger port posts through the Web API (messenger)."""
