"""Customers, their contacts, open items (invoices and credit memos) and payments."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, LargeBinary, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, str_enum
from storage.types import Money, UTCDateTime


class InvoiceKind(str, enum.Enum):
    STANDARD = "standard"
    FINAL = "final"
    RECURRING = "recurring"
    RETAINER = "retainer"
    CREDIT_MEMO = "credit_memo"
    UNAPPLIED_PAYMENT = "unapplied_payment"


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    erp_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    collector_id: Mapped[int | None] = mapped_column(ForeignKey("team_members.id"), index=True)
    segment: Mapped[str | None] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    contacts: Mapped[list[Contact]] = relationship(back_populates="customer", order_by="Contact.id")


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    is_primary: Mapped[bool] = mapped_column(default=False)

    customer: Mapped[Customer] = relationship(back_populates="contacts")


class Invoice(Base):
    """An open item. Credit memos and unapplied payments carry negative amounts.

    ``open_balance`` goes to zero and ``closed_on`` is set when a snapshot import no longer
    lists the item (it was paid or applied)."""

    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("customer_id", "number", name="uq_invoices_customer_number"),
        # One customer's open items without touching the rest: refreshing its packed items,
        # its status, the disputed items the call list takes money off.
        Index(
            "ix_invoices_open_items",
            "customer_id",
            "due_date",
            "kind",
            "open_balance",
            sqlite_where=text("closed_on IS NULL"),
            postgresql_where=text("closed_on IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    number: Mapped[str] = mapped_column(String(64))
    kind: Mapped[InvoiceKind] = mapped_column(str_enum(InvoiceKind))
    issue_date: Mapped[date | None]
    due_date: Mapped[date]
    amount: Mapped[Decimal] = mapped_column(Money())
    open_balance: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    closed_on: Mapped[date | None]
    last_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))


class OpenItemPack(Base):
    """One customer's open items packed into one value, for the call list: a projection of
    ``invoices`` kept in step by storage/open_items.py (absent when the customer has none open)."""

    __tablename__ = "open_item_packs"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    items: Mapped[bytes] = mapped_column(LargeBinary())


class Payment(Base):
    """Money known to have arrived: seen as a drop in open balances at import, or confirmed by finance."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money())
    received_on: Mapped[date]
    method: Mapped[str | None] = mapped_column(String(40))
    reference: Mapped[str | None] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(20))  # "import" | "finance"
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
