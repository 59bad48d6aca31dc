"""The Microsoft Teams adapter. This package is the only place that imports botbuilder, so a move
to the Microsoft 365 Agents SDK stays a change inside it. Importing the package itself loads
nothing heavy: ``arbot teams-package`` and ``--help`` must not pay for the SDK."""
