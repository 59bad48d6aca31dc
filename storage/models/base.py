"""Declarative base with a naming convention, so Alembic batch mode can find constraints by name."""

from __future__ import annotations

import enum

from sqlalchemy import Enum, MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def str_enum(cls: type[enum.Enum]) -> Enum:
    """A Python enum stored as its string values in a VARCHAR: portable (no native ENUM type to
    migrate on PostgreSQL) and readable in the database."""
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
