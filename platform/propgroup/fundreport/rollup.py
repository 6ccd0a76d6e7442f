"""The consolidation of the fund report (R-BUD-4 style): a unit's figures are its own accounts'
plus its whole subtree's, a region's its branches' and its own, HQ's the regions' and its own.
Amounts of different currencies are never added: every total is per currency, and within a
currency per account type and for all types (``ALL_TYPES``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Container, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

ZERO = Decimal("0.00")
ALL_TYPES = "all"


@dataclass(frozen=True)
class Flows:
    """A week of money: opening balance, receipts (收入), payments (支出), closing balance."""

    opening: Decimal = ZERO
    receipts: Decimal = ZERO
    payments: Decimal = ZERO
    closing: Decimal = ZERO

    def __add__(self, other: Flows) -> Flows:
        return Flows(
            self.opening + other.opening,
            self.receipts + other.receipts,
            self.payments + other.payments,
            self.closing + other.closing,
        )

    @property
    def balanced(self) -> bool:
        return self.opening + self.receipts - self.payments == self.closing


class AccountWeek(Protocol):
    unit_path: str
    account_type: str
    currency: str
    opening: Decimal
    receipts: Decimal
    payments: Decimal
    closing: Decimal


def flows_of(line: AccountWeek) -> Flows:
    return Flows(line.opening, line.receipts, line.payments, line.closing)


def ids_on(path: str) -> list[int]:
    """The unit ids of a materialised path, the root first and the unit itself last."""
    return [int(part) for part in path.strip("/").split("/")]


# unit id → currency → account type (or ALL_TYPES) → flows
Totals = dict[int, dict[str, dict[str, Flows]]]


def rolled_up(lines: Iterable[AccountWeek], units: Container[int] | None = None) -> Totals:
    """Every unit's totals over its subtree's account lines (only ``units``, when given)."""
    totals: defaultdict[int, defaultdict[str, defaultdict[str, Flows]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(Flows))
    )
    for line in lines:
        flows = flows_of(line)
        for unit_id in ids_on(line.unit_path):
            if units is not None and unit_id not in units:
                continue
            by_type = totals[unit_id][line.currency]
            by_type[line.account_type] += flows
            by_type[ALL_TYPES] += flows
    return {unit: {cur: dict(types) for cur, types in by.items()} for unit, by in totals.items()}
