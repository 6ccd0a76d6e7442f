"""Documents (附件/单据影像, tenant schema): a stored blob linked to any entity of the tenant."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    String,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from propgroup.db import TenantBase

# The foreign keys below resolve by table name in the shared tenant metadata: load those tables.
from propgroup.identity import models as _identity_models  # noqa: F401
from propgroup.org import models as _org_models  # noqa: F401


class Document(TenantBase):
    """One uploaded file. ``entity_type``/``entity_id`` name what it belongs to (an expense
    claim, a contract, …) without a foreign key, so any capability can attach documents."""

    __tablename__ = "documents"
    __table_args__ = (
        CheckConstraint("size_bytes > 0", name="size_positive"),
        Index("ix_documents_entity", "entity_type", "entity_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    blob_key: Mapped[str] = mapped_column(String(1024), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[int] = mapped_column(BigInteger)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
