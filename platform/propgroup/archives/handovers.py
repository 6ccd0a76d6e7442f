"""Handover lists (工作交接, seed §19; R-BNK-3): when an accountant or cashier leaves, what they
keep (archives, seals, cheque books, open items) is listed, and the list is signed by the one
leaving, the one taking over and a supervisor, three different people. Once all three have
signed, the list is filed as a transfer list (会计档案移交清册) with a PDF of it."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from propgroup.approvals.service import now
from propgroup.archives.certificate import handover_pdf
from propgroup.archives.models import HANDOVER_KINDS, ArchiveItem, Handover, HandoverLine
from propgroup.archives.schedule import checked_by
from propgroup.archives.service import (
    archive_unit,
    file_generated,
    required_text,
    signed_by_person,
)
from propgroup.audit.service import record
from propgroup.db import BIGINT_MAX
from propgroup.errors import Conflict, Forbidden, InvalidInput, NotFound
from propgroup.identity.authz import authorize, can, visible_units
from propgroup.identity.models import User
from propgroup.identity.principals import Principal
from propgroup.identity.service import user_principal
from propgroup.org import service as org
from propgroup.org.models import OrgUnit
from propgroup.storage.blobstore import BlobStore

RECORD_CLASS = "transfer_list"
SIGNERS = ("leaving", "receiving", "supervisor")
NO_USER = "no active user"
THREE_PEOPLE = "leaving, receiving and supervisor are three people"
QUANTITY_MAX = 2**31 - 1  # the column is an INTEGER: more would be a database error


class LineSpecSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(HANDOVER_KINDS))
    description = fields.String(required=True, validate=validate.Length(min=1, max=300))
    quantity = fields.Integer(
        load_default=1, strict=True, validate=validate.Range(min=1, max=QUANTITY_MAX)
    )
    item_id = fields.Integer(load_default=None, strict=True, validate=validate.Range(min=1))

    @validates_schema
    def _archive_names_its_item(self, data: dict[str, Any], **_: Any) -> None:
        if (data["kind"] == "archive") != (data["item_id"] is not None):
            raise ValidationError("an archive line, and only one, names its item_id", "item_id")


class HandoverSpecSchema(Schema):
    unit_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    leaving = fields.String(required=True)
    receiving = fields.String(required=True)
    supervisor = fields.String(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    lines = fields.List(
        fields.Nested(LineSpecSchema), required=True, validate=validate.Length(min=1, max=1000)
    )


def _people(session: Session, checked: dict[str, Any], unit: OrgUnit) -> dict[str, User]:
    """The three signers by login: active, three different people, the one leaving working at
    the unit, the supervisor entitled to supervise there."""
    logins = {role: checked[role] for role in SIGNERS}
    found = {
        user.login: user
        for user in session.scalars(
            select(User).where(User.login.in_(list(logins.values())), User.active)
        )
    }
    problems = {role: [NO_USER] for role, login in logins.items() if login not in found}
    if not problems and len(set(logins.values())) < len(SIGNERS):
        problems["receiving"] = [THREE_PEOPLE]
    people = {role: found.get(login) for role, login in logins.items()}
    if not problems and not can(session, user_principal(people["leaving"]), "org:read", unit):
        problems["leaving"] = [f"holds no role at {unit.code}"]
    if not problems and not can(
        session, user_principal(people["supervisor"]), "archives:supervise", unit
    ):
        problems["supervisor"] = [f"may not supervise at {unit.code}"]
    if problems:
        raise InvalidInput("the handover's people were refused", code="bad_people", errors=problems)
    return people  # type: ignore[return-value]


def _check_items(session: Session, unit: OrgUnit, lines: list[dict[str, Any]]) -> None:
    wanted = {
        line["item_id"] for line in lines if line["item_id"] and line["item_id"] <= BIGINT_MAX
    }
    kept = set(
        session.scalars(
            select(ArchiveItem.id)
            .join(OrgUnit, OrgUnit.id == ArchiveItem.unit_id)
            .where(
                ArchiveItem.id.in_(wanted),
                ArchiveItem.stage != "destroyed",
                OrgUnit.path.startswith(unit.path, autoescape=True),
            )
        )
    )
    problems = {
        f"lines.{index}.item_id": [f"no archive item {line['item_id']} kept under {unit.code}"]
        for index, line in enumerate(lines)
        if line["item_id"] is not None and line["item_id"] not in kept
    }
    if problems:
        raise InvalidInput("the handover's lines were refused", code="bad_lines", errors=problems)


def open_handover(session: Session, principal: Principal, spec: dict[str, Any]) -> Handover:
    """The list as drawn up; every line is checked before anything is written."""
    signed_by_person(principal)
    checked = checked_by(HandoverSpecSchema(), spec, "the handover was refused", "bad_handover")
    unit = archive_unit(session, checked["unit_id"])
    authorize(session, principal, "archives:write", unit)
    people = _people(session, checked, unit)
    _check_items(session, unit, checked["lines"])
    handover = Handover(
        unit_id=unit.id,
        leaving_id=people["leaving"].id,
        receiving_id=people["receiving"].id,
        supervisor_id=people["supervisor"].id,
        reason=checked["reason"],
        created_by=principal.id,
    )
    session.add(handover)
    session.flush()
    session.add_all(HandoverLine(handover_id=handover.id, **line) for line in checked["lines"])
    session.flush()
    record(
        session,
        principal,
        "archives.handover_opened",
        "archive_handover",
        handover.id,
        after={
            **{role: checked[role] for role in SIGNERS},
            "unit": unit.code,
            "lines": len(checked["lines"]),
        },
    )
    return handover


def get_handover(
    session: Session, principal: Principal, handover_id: int, action: str, *, lock: bool = False
) -> Handover:
    handover = (
        session.get(Handover, handover_id, with_for_update=lock)
        if 0 < handover_id <= BIGINT_MAX
        else None
    )
    if handover is None:
        raise NotFound(f"handover {handover_id} does not exist", code="handover_not_found")
    if signer_role(handover, principal) is None:
        authorize(session, principal, action, org.get_unit(session, handover.unit_id))
    return handover


def signer_role(handover: Handover, principal: Principal) -> str | None:
    """Which of the three the principal signs as, if any (an API client's id is no user's)."""
    if principal.kind != "user":
        return None
    return next((role for role in SIGNERS if getattr(handover, f"{role}_id") == principal.id), None)


def visible_handovers(session: Session, principal: Principal) -> Select:
    """What ``get_handover`` lets the principal read: the lists they sign, and those of the
    units where they may read archives; newest first."""
    readable = visible_units(session, principal, "archives:read")
    if principal.kind == "user":
        readable = or_(
            readable,
            *(getattr(Handover, f"{role}_id") == principal.id for role in SIGNERS),
        )
    return (
        select(Handover)
        .join(OrgUnit, OrgUnit.id == Handover.unit_id)
        .where(readable)
        .order_by(Handover.id.desc())
    )


def lines_of(session: Session, handover: Handover) -> list[HandoverLine]:
    return list(
        session.scalars(
            select(HandoverLine)
            .where(HandoverLine.handover_id == handover.id)
            .order_by(HandoverLine.id)
        )
    )


def _open(handover: Handover) -> None:
    if handover.status != "open":
        raise Conflict(f"handover {handover.id} is {handover.status}", code="bad_state")


def sign(session: Session, store: BlobStore, principal: Principal, handover_id: int) -> Handover:
    """One of the three signs their part; the third signature files the list."""
    signed_by_person(principal)
    handover = get_handover(session, principal, handover_id, "archives:read", lock=True)
    _open(handover)
    role = signer_role(handover, principal)
    if role is None:
        raise Forbidden(
            "only the one leaving, the one taking over and the supervisor sign a handover",
            code="not_a_signer",
        )
    if getattr(handover, f"{role}_signed_at") is not None:
        raise Conflict(f"{principal.name} has signed already", code="signed_already")
    setattr(handover, f"{role}_signed_at", now())
    if all(getattr(handover, f"{r}_signed_at") for r in SIGNERS):
        handover.status = "signed"
        unit = org.get_unit(session, handover.unit_id)
        people = {r: session.get(User, getattr(handover, f"{r}_id")) for r in SIGNERS}
        handover.record_item_id = file_generated(
            session,
            store,
            principal,
            class_code=RECORD_CLASS,
            unit=unit,
            title=f"工作交接移交清册 #{handover.id} · {people['leaving'].display_name} → "
            f"{people['receiving'].display_name}",
            source=("archive_handover", handover.id),
            files=[
                (
                    f"handover-{handover.id}.pdf",
                    handover_pdf(handover, unit, people, lines_of(session, handover)),
                )
            ],
        ).id
    session.flush()
    record(
        session,
        principal,
        "archives.handover_signed",
        "archive_handover",
        handover.id,
        after={"as": role, "status": handover.status, "record_item": handover.record_item_id},
    )
    return handover


def cancel(session: Session, principal: Principal, handover_id: int, reason: str) -> Handover:
    """An unfinished list is withdrawn (a wrong line: draw up a new one)."""
    signed_by_person(principal)
    reason = required_text(reason, "reason")
    handover = get_handover(session, principal, handover_id, "archives:write", lock=True)
    authorize(session, principal, "archives:write", org.get_unit(session, handover.unit_id))
    _open(handover)
    handover.status = "cancelled"
    session.flush()
    record(
        session,
        principal,
        "archives.handover_cancelled",
        "archive_handover",
        handover.id,
        after={"reason": reason},
    )
    return handover
