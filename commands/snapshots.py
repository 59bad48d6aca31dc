"""What the latest aging snapshot can already reflect.

Invoices change only by import. Something that happened in chat after the latest import ran (a
payment finance confirmed, a dispute settled in the customer's favour) is therefore not in the
open balances yet; the call list sets its money aside until a snapshot carries the ERP's own
reading of it.

For confirmed payments the import itself says when that happens: a payment finance confirmed
stays out of the ERP's picture (``batch_id`` empty) until an import sees the customer's balances
fall by it, and then belongs to that batch (storage.aging.payments). :func:`awaiting_erp` is that
test; it holds through exports that lag, where :func:`after_last_import` (a timestamp test) stops
setting the money aside at the next import whether or not the ERP has it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select

from storage.models import ImportBatch, Payment


def after_last_import(moment: Any) -> ColumnElement[bool]:
    """``moment`` (a timestamp column) is later than the latest import, or no import ran yet."""
    last_import = select(func.max(ImportBatch.created_at)).scalar_subquery()
    return or_(last_import.is_(None), moment > last_import)


def awaiting_erp() -> ColumnElement[bool]:
    """Payments finance confirmed that no import has shown yet: money to set aside from the
    imported open balances, however many exports came in since it was confirmed."""
    return and_(Payment.source == "finance", Payment.batch_id.is_(None))
