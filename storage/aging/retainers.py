"""Retainer requirements an export carries (a "Retainer Required" column): each customer's
requirement for the account as a whole, set or changed when the file states one (0 removes it),
each change audited. A blank cell leaves the requirement as it is; a cell that is not an amount
(or is negative) is skipped, while the invoices on its line still come in."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from storage.aging.money import parse_money
from storage.models import WHOLE_ACCOUNT
from storage.retainers import save_requirement
from storage.types import from_cents


def imported_retainers(session: Session, ids: np.ndarray, values: pd.Series, *, at: datetime, actor: str) -> int:
    """Apply the file's requirements (``values[i]`` for customer ``ids[i]``); returns how many changed."""
    read = parse_money(values.astype("str"))
    usable = ~read.blank & (read.reason == "").to_numpy() & (read.cents >= 0)
    changed = 0
    for customer_id, cents in zip(ids[usable], read.cents[usable], strict=True):
        outcome = save_requirement(
            session,
            customer_id=int(customer_id),
            engagement=WHOLE_ACCOUNT,
            amount=from_cents(int(cents)),
            actor=actor,
            at=at,
        )
        changed += outcome != "unchanged"
    return changed
