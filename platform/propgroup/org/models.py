"""Org units (tenant schema), kept as a materialised path so subtree reads are one indexed scan."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from propgroup.db import TenantBase


class OrgUnit(TenantBase):
    """A unit of the group: HQ, regional centre, project branch or department.

    ``path`` is ``/<root id>/…/<own id>/``; a subtree is every row whose path starts with it.
    """

    __tablename__ = "org_units"
    __table_args__ = (
        CheckConstraint("kind in ('hq', 'region', 'branch', 'department')", name="kind"),
        CheckConstraint("(kind = 'hq') = (parent_id is null)", name="root_is_hq"),
        Index("uq_org_units_one_hq", "kind", unique=True, postgresql_where=text("kind = 'hq'")),
        Index("ix_org_units_path", "path", postgresql_ops={"path": "text_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(String(1000))
    depth: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    def contains(self, other: OrgUnit) -> bool:
        return other.path.startswith(self.path)
