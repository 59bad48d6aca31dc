"""Workflows that wait for someone: payment confirmations and approval requests."""
