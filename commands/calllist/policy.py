"""The ranking policy: tiers, weights, thresholds, windows and exclusions, read from TOML.

The built-in ``default_policy.toml`` documents every key and is the only place defaults live; a
team's file is laid over it, so it names only what it changes. Mistakes in a team's file (a
misspelt key, a word where a number belongs, a window whose start is after its end) are refused
with one message naming the file and the key, because a silently ignored setting would quietly
reorder every collector's day.
"""

from __future__ import annotations

import tomllib
import types
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

DEFAULT_POLICY_FILE = Path(__file__).with_name("default_policy.toml")

Mode = Literal["leave_out", "push_down", "ignore"]

# The rules that can be tiers: each says yes or no about an account (the others only grade it).
TIER_RULES = ("final_invoice", "unpaid_mrr", "over_30_days", "crossing_soon", "broken_promise")


class PolicyError(ValueError):
    """The policy file cannot be used; the message says which key and why."""


@dataclass(frozen=True)
class ListSettings:
    capacity: int | None
    min_days_past_due: int


@dataclass(frozen=True)
class Ranking:
    tiers: tuple[str, ...]  # names from TIER_RULES, most urgent first; empty: additive scores only
    tier_floor: int  # dollars; a tier's past-due amount under this does not qualify for it


@dataclass(frozen=True)
class FinalInvoice:
    weight: float
    min_days: int
    max_days: int


@dataclass(frozen=True)
class UnpaidMrr:
    weight: float
    min_months: int
    per_extra_month: float


@dataclass(frozen=True)
class Over30Days:
    weight: float
    extra_over_60: float
    extra_over_90: float


@dataclass(frozen=True)
class CrossingSoon:
    weight: float
    thresholds: tuple[int, ...]
    lookahead_business_days: int


@dataclass(frozen=True)
class BrokenPromise:
    weight: float
    window_days: int


@dataclass(frozen=True)
class EarlyWindow:
    weight: float
    min_days: int
    max_days: int


@dataclass(frozen=True)
class Balance:
    per_tenfold: float
    from_amount: int


@dataclass(frozen=True)
class DaysLate:
    weight: float
    full_at_days: int
    min_paid_invoices: int
    lookback_days: int


@dataclass(frozen=True)
class PromiseKept:
    weight: float
    min_promises: int
    lookback_days: int


@dataclass(frozen=True)
class SuspensionStep:
    weight: float
    extra_when_overdue: float


@dataclass(frozen=True)
class Rules:
    final_invoice: FinalInvoice
    unpaid_mrr: UnpaidMrr
    over_30_days: Over30Days
    crossing_soon: CrossingSoon
    broken_promise: BrokenPromise
    early_window: EarlyWindow
    balance: Balance
    days_late: DaysLate
    promise_kept: PromiseKept
    suspension_step: SuspensionStep


@dataclass(frozen=True)
class Exclusions:
    open_promise: Mode
    plan_in_good_standing: Mode
    reached_today: Mode
    tried_today: Mode
    max_attempts: int


@dataclass(frozen=True)
class Policy:
    list: ListSettings
    ranking: Ranking
    rules: Rules
    exclusions: Exclusions


# Pairs of keys where the first must not exceed the second, per section.
_ORDERED = {
    "rules.final_invoice": ("min_days", "max_days"),
    "rules.early_window": ("min_days", "max_days"),
}
# Keys that must be at least 1 (the others must be at least 0).
_POSITIVE = {"capacity", "thresholds", "full_at_days", "from_amount", "max_attempts", "min_months"}


T = TypeVar("T", bound="DataclassInstance")


def load_policy(path: Path | None = None) -> Policy:
    """The default policy, with the file at ``path`` (if any) laid over it."""
    data = _read(DEFAULT_POLICY_FILE)
    if path is not None:
        data = _merge(data, _read(Path(path)), str(path))
    try:
        return _build(Policy, data, "")
    except PolicyError as exc:
        raise PolicyError(f"policy file {path or DEFAULT_POLICY_FILE}: {exc}") from None


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyError(f"policy file not found: {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PolicyError(f"policy file {path} is not valid TOML: {exc}") from None


def _merge(base: dict[str, Any], over: dict[str, Any], source: str, where: str = "") -> dict[str, Any]:
    """``over`` laid onto ``base`` table by table; a table replaced by a value (or the reverse)
    is a mistake worth naming."""
    merged = dict(base)
    for key, value in over.items():
        name = f"{where}.{key}" if where else key
        if isinstance(base.get(key), dict) != isinstance(value, dict) and key in base:
            kind = "a table" if isinstance(base[key], dict) else "a value"
            raise PolicyError(f"policy file {source}: [{name}] must be {kind}")
        both_tables = isinstance(value, dict) and key in base
        merged[key] = _merge(base[key], value, source, name) if both_tables else value
    return merged


def _build(cls: type[T], data: Any, where: str) -> T:
    """One frozen dataclass from its TOML table, checking keys, types and ranges."""
    label = f"[{where}]" if where else "the top level"
    if not isinstance(data, dict):
        raise PolicyError(f"{label} must be a table")
    hints = get_type_hints(cls)
    unknown = sorted(set(data) - set(hints))
    if unknown:
        raise PolicyError(f"{label}: unknown key(s) {', '.join(unknown)} (known: {', '.join(hints)})")
    values: dict[str, Any] = {}
    for f in fields(cls):
        name = f"{where}.{f.name}" if where else f.name
        if f.name not in data:
            if _optional(hints[f.name]):
                values[f.name] = None
                continue
            raise PolicyError(f"{label}: missing key {f.name}")
        values[f.name] = _value(hints[f.name], data[f.name], name)
    _check_order(where, values)
    return cls(**values)


def _value(hint: Any, raw: Any, name: str) -> Any:
    if hasattr(hint, "__dataclass_fields__"):
        return _build(hint, raw, name)
    key = name.rsplit(".", 1)[-1]
    if get_origin(hint) is Literal:
        if raw not in get_args(hint):
            raise PolicyError(f"{name} must be one of {', '.join(map(repr, get_args(hint)))}, not {raw!r}")
        return raw
    if get_origin(hint) is tuple and get_args(hint)[0] is str:
        return _tier_names(raw, name)
    if get_origin(hint) is tuple:
        if not isinstance(raw, list) or not raw:
            raise PolicyError(f"{name} must be a non-empty list of whole numbers")
        return tuple(sorted(_number(int, item, name, key) for item in raw))
    base = next(a for a in get_args(hint) if a is not type(None)) if _optional(hint) else hint
    return _number(base, raw, name, key)


def _tier_names(raw: Any, name: str) -> tuple[str, ...]:
    """Tier names in the team's order (the order is the point, so it is kept as written). A
    repeated or unknown name is refused: either would leave the intended order unclear."""
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise PolicyError(f"{name} must be a list of rule names (an empty list ranks by score alone)")
    unknown = [item for item in raw if item not in TIER_RULES]
    if unknown:
        raise PolicyError(f"{name}: unknown tier(s) {', '.join(unknown)} (known: {', '.join(TIER_RULES)})")
    repeated = sorted({item for item in raw if raw.count(item) > 1})
    if repeated:
        raise PolicyError(f"{name}: {', '.join(repeated)} named more than once")
    return tuple(raw)


def _number(kind: type[int] | type[float], raw: Any, name: str, key: str) -> int | float:
    """Whole numbers where a count of days or items is meant; any number for weights. Booleans
    are refused although Python counts them as ints: ``weight = true`` is a mistake."""
    wanted = (int,) if kind is int else (int, float)
    if isinstance(raw, bool) or not isinstance(raw, wanted):
        noun = "a whole number" if kind is int else "a number"
        raise PolicyError(f"{name} must be {noun}, not {raw!r}")
    least = 1 if key in _POSITIVE else 0
    if raw < least:
        raise PolicyError(f"{name} must be at least {least}, not {raw!r}")
    return kind(raw)


def _optional(hint: Any) -> bool:
    return get_origin(hint) in (Union, types.UnionType) and type(None) in get_args(hint)


def _check_order(where: str, values: dict[str, Any]) -> None:
    pair = _ORDERED.get(where)
    if pair and values[pair[0]] > values[pair[1]]:
        low, high = pair
        raise PolicyError(f"[{where}]: {low} ({values[low]}) is more than {high} ({values[high]})")
