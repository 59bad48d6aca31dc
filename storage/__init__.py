"""Persistence: SQLAlchemy models, engine and sessions, migrations, aging-file imports.

Nothing here knows about chat platforms; commands/ and scheduler/ build on it.
"""
