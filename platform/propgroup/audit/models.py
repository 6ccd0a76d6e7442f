"""Audit events (tenant schema). The tenant role may INSERT and SELECT here, nothing else."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DDL, BigInteger, DateTime, Identity, String, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from propgroup.db import TenantBase


class AuditEvent(TenantBase):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_name: Mapped[str] = mapped_column(String(200))
    acting_for: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(80), index=True)
    entity_type: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str | None] = mapped_column(String(60))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    request_id: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


# The chain's head, read under the tenant's chain lock in one call: the lock is taken first and
# the newest hash read after it is held (each statement of a volatile function sees what had
# committed when it started). Writers extend the chain one at a time, in the order of ids.
CHAIN_HEAD = """
create or replace function audit_chain_head() returns varchar language plpgsql as $$
begin
    perform pg_advisory_xact_lock(hashtextextended('audit:' || current_schema(), 0));
    return (select hash from audit_events order by id desc limit 1);
end $$;
"""
# Tables made from the models (provisioning) get the function the migration (t0023) gives.
event.listen(AuditEvent.__table__, "after_create", DDL(CHAIN_HEAD))
