"""Helpers the tests share: worlds to talk to, fake platforms, ledgers (no tests here)."""
