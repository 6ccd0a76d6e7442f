"""Recording and verifying the audit chain.

Each event's hash covers its content and the previous event's hash, so editing, deleting or
reordering a row breaks the chain at that row. Appends take a per-tenant transaction lock so the
chain has one order, the order of ids.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from propgroup.audit.models import AuditEvent
from propgroup.identity.principals import Principal

GENESIS = "0" * 64
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
    """Append one event in the caller's transaction: it commits or vanishes with the change."""
    lock_key = func.hashtextextended(literal("audit:") + func.current_schema(), 0)
    session.execute(select(func.pg_advisory_xact_lock(lock_key)))
    prev = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
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
        prev_hash=prev or GENESIS,
    )
    event.hash = chain_hash(event.prev_hash, event)
    session.add(event)
    session.flush()
    return event


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
