"""The one error the aging reader raises: the file as a whole cannot be read as open items."""

from __future__ import annotations


class AgingFileError(ValueError):
    """Unreadable file, no recognisable header, a missing required column: one message, nothing written."""
