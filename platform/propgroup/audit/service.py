"""Recording and verifying the audit chain.

Each event's hash covers its content and the previous event's hash, so editing, deleting or
reordering a row breaks the chain at that row. Events are linked and inserted at commit, under a
per-tenant lock, so the chain has one order, the order of ids, and the lock is held briefly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event as orm_event
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from propgroup.audit.models import AuditEvent
from propgroup.identity.principals import Principal

GENESIS = "0" * 64
_PENDING = "propgroup.audit.pending"
# Built once (their SQL cache keys computed once): every change of every request runs them.
_events = AuditEvent.__table__
_CHAIN_HEAD = select(func.audit_chain_head())  # takes the chain lock, then reads (models.py)
_INSERT_EVENTS = insert(_events)
_INSERTED = tuple(column.key for column in _events.columns if column.key != "id")
_HASHED_FIELDS = (
    "actor_kind",
    "actor_id",
    "actor_name",
    "acting_for",
    "action",
    "entity_type",
    "entity_id",
    "before",
    "after",
    "request_id",
)


def _jsonable(value: Any) -> Any:
    """What JSONB will give back: Decimals and dates become strings, keys stay as they are."""
    return None if value is None else json.loads(json.dumps(value, default=str))


def chain_hash(prev_hash: str, event: AuditEvent) -> str:
    content = {name: getattr(event, name) for name in _HASHED_FIELDS}
    content["occurred_at"] = event.occurred_at.astimezone(UTC).isoformat()
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def record(
    session: Session,
    principal: Principal,
    action: str,
    entity_type: str,
    entity_id: object = None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Queue one event in the caller's transaction: it is written when that transaction commits
    (linked into the chain then) and vanishes with it on rollback."""
    event = AuditEvent(
        occurred_at=datetime.now(UTC),
        actor_kind=principal.kind,
        actor_id=principal.id,
        actor_name=principal.name,
        acting_for=principal.acting_for,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        before=_jsonable(before),
        after=_jsonable(after),
        request_id=principal.request_id,
    )
    if not session.in_transaction():
        session.begin()  # so a rollback that follows ends it, and the queue with it
    session.info.setdefault(_PENDING, []).append(event)
    return event


def write_pending(session: Session) -> None:
    """Link the queued events to the chain and insert them, under the tenant's chain lock.

    Runs just before commit, so the lock is held only for these inserts and the commit itself,
    not for the whole request; ids are drawn under the lock, so id order is chain order.
    """
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    prev = session.execute(_CHAIN_HEAD).scalar() or GENESIS
    rows = []
    for event in pending:
        event.prev_hash, event.hash = prev, chain_hash(prev, event)
        prev = event.hash
        rows.append({name: getattr(event, name) for name in _INSERTED})
    # A plain INSERT in queue order (ids follow it): the unit of work would also read each id
    # back and keep the objects, for nobody.
    session.execute(_INSERT_EVENTS, rows)


@orm_event.listens_for(Session, "before_commit")
def _write_before_commit(session: Session) -> None:
    write_pending(session)


@orm_event.listens_for(Session, "after_transaction_end")
def _forget_when_rolled_back(session: Session, transaction) -> None:
    # Only the outermost transaction: a savepoint rolled back keeps what came before it.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_bad_id: int | None = None
    reason: str | None = None

    @property
    def intact(self) -> bool:
        return self.first_bad_id is None


def verify_chain(events: Iterable[AuditEvent]) -> ChainReport:
    """Walk events in id order; name the first row whose content or link does not hold."""
    expected_prev, checked = GENESIS, 0
    for event in events:
        checked += 1
        if event.prev_hash != expected_prev:
            return ChainReport(
                checked, event.id, "does not follow the row before it (deleted or reordered rows)"
            )
        if chain_hash(event.prev_hash, event) != event.hash:
            return ChainReport(checked, event.id, "content was altered after it was written")
        expected_prev = event.hash
    return ChainReport(checked)


def verify(session: Session) -> ChainReport:
    events = session.scalars(
        select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=2000)
    )
    return verify_chain(events)
