"""A week's fund report as one reader may see it: the units they may banking:read, each with
its consolidated figures per currency and account type, its own accounts (numbers masked unless
banking:numbers) and whether it has confirmed its week; and the units that have not.

The unit tree is the snapshot's (the paths kept with the lines), so a sent week reads the same
after units move; who may read a unit is decided now.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from propgroup.banking.models import BankAccount
from propgroup.banking.service import shown_number
from propgroup.fundreport import service
from propgroup.fundreport.models import FundLine, FundWeek
from propgroup.fundreport.rollup import ALL_TYPES, Flows, flows_of, ids_on, rolled_up
from propgroup.identity.authz import authorize, authorize_somewhere, visible_units
from propgroup.identity.models import User
from propgroup.identity.principals import Principal
from propgroup.org import service as org
from propgroup.org.models import OrgUnit

TYPE_ORDER = ("basic", "general", "special", "temporary")


def list_weeks(session: Session, principal: Principal) -> list[FundWeek]:
    authorize_somewhere(session, principal, "banking:read")
    return list(session.scalars(select(FundWeek).order_by(FundWeek.week_ending.desc())))


def _readable(session: Session, principal: Principal, unit_id: int | None) -> dict[int, OrgUnit]:
    """The units the reader may banking:read (within ``unit_id``'s subtree, when given)."""
    query = select(OrgUnit).where(visible_units(session, principal, "banking:read"))
    if unit_id is not None:
        top = org.get_unit(session, unit_id)
        authorize(session, principal, "banking:read", top)
        query = query.where(OrgUnit.path.startswith(top.path))
    else:
        authorize_somewhere(session, principal, "banking:read")
    return {unit.id: unit for unit in session.scalars(query)}


def _flows(flows: Flows) -> dict[str, Any]:
    return asdict(flows)


def _totals(by_currency: dict[str, dict[str, Flows]]) -> list[dict[str, Any]]:
    """Per currency (never added across), its total and its account types in the usual order."""
    return [
        {
            "currency": currency,
            **_flows(by_type[ALL_TYPES]),
            "by_type": [
                {"account_type": kind, **_flows(by_type[kind])}
                for kind in TYPE_ORDER
                if kind in by_type
            ],
        }
        for currency, by_type in sorted(by_currency.items())
    ]


def _account(
    session: Session, principal: Principal, line: FundLine, account: BankAccount
) -> dict[str, Any]:
    return {
        "account_id": account.id,
        "bank": account.bank,
        "bank_branch": account.bank_branch,
        "account_name": account.account_name,
        "number": shown_number(session, principal, account),
        "account_type": line.account_type,
        "currency": line.currency,
        **_flows(flows_of(line)),
    }


def week_report(
    session: Session, principal: Principal, week_ending: object, unit_id: int | None = None
) -> dict[str, Any]:
    """The week for ``principal``: every readable unit (in ``unit_id``'s subtree) in tree order."""
    week = service.read_week(session, week_ending)
    readable = _readable(session, principal, unit_id)
    lines = [line for line in service.lines_of(session, week) if line.unit_id in readable]
    totals = rolled_up(lines, readable)
    units = _units_on(session, lines, readable)
    accounts = {
        a.id: a
        for a in session.scalars(
            select(BankAccount).where(BankAccount.id.in_([line.account_id for line in lines]))
        )
    }
    confirmations = service.confirmations_of(session, week)
    confirmers = _names(session, [c.confirmed_by for c in confirmations.values()])
    rows = []
    for unit, parent_id, level in units:
        own = [line for line in lines if line.unit_id == unit.id]
        confirmation = confirmations.get(unit.id)
        rows.append(
            {
                "unit_id": unit.id,
                "code": unit.code,
                "name": unit.name,
                "kind": unit.kind,
                "parent_id": parent_id,
                "level": level,
                "totals": _totals(totals.get(unit.id, {})),
                "accounts": [
                    _account(session, principal, line, accounts[line.account_id]) for line in own
                ],
                "submission": {
                    "expected": bool(own),
                    "confirmed_at": confirmation.confirmed_at if confirmation else None,
                    "confirmed_by": confirmers.get(confirmation.confirmed_by)
                    if confirmation
                    else None,
                    "late": bool(own) and service.is_late(session, week, confirmation),
                },
            }
        )
    return {
        "week_ending": week.week_ending,
        "week_starting": week_start(week.week_ending),
        "revision": week.revision,
        "generated_at": week.generated_at,
        "generated_by": week.generated_by,
        "confirm_by": service.confirm_deadline(session, week.week_ending),
        "units": rows,
        "not_submitted": [
            {
                "unit_id": row["unit_id"],
                "code": row["code"],
                "name": row["name"],
                "late": row["submission"]["late"],
            }
            for row in rows
            if row["submission"]["expected"] and row["submission"]["confirmed_at"] is None
        ],
    }


def _units_on(
    session: Session, lines: list[FundLine], readable: dict[int, OrgUnit]
) -> list[tuple[OrgUnit, int | None, int]]:
    """(unit, its parent in the report, its level) of every readable unit on the lines' paths,
    in tree order (children by code)."""
    paths: dict[int, list[int]] = {}
    for line in lines:
        ids = [i for i in ids_on(line.unit_path) if i in readable]
        for end in range(1, len(ids) + 1):
            paths.setdefault(ids[end - 1], ids[:end])
    ordered = sorted(paths.items(), key=lambda item: [readable[i].code for i in item[1]])
    return [
        (readable[uid], path[-2] if len(path) > 1 else None, len(path) - 1) for uid, path in ordered
    ]


def _names(session: Session, user_ids: list[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    return dict(
        session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids))).all()
    )


def week_start(week_ending: date) -> date:
    return date.fromordinal(week_ending.toordinal() - 6)
