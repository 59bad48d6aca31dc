"""What the latest aging snapshot can already reflect.

Invoices change only by import. Something that happened in chat after the latest import ran (a
payment finance confirmed, a dispute settled in the customer's favour) is therefore not in the
open balances yet; the call list sets its money aside until the next snapshot, which carries the
ERP's own reading of it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, or_, select

from storage.models import ImportBatch


def after_last_import(moment: Any) -> ColumnElement[bool]:
    """``moment`` (a timestamp column) is later than the latest import, or no import ran yet."""
    last_import = select(func.max(ImportBatch.created_at)).scalar_subquery()
    return or_(last_import.is_(None), moment > last_import)
