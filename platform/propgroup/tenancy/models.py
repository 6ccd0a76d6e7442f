"""Control-plane registry (schema ``public``): cells and tenants; and the settings row each tenant
keeps in its own schema."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    SmallInteger,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from propgroup.db import PublicBase, TenantBase

TENANT_STATUSES = ("active", "suspended")


class Cell(PublicBase):
    """A PostgreSQL database that holds tenant schemas.

    ``database_url`` is a URL, or ``env:VAR`` so credentials stay out of the table, or NULL for
    the control plane's own database (the ``default`` cell).
    """

    __tablename__ = "cells"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    database_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Tenant(PublicBase):
    """One property group; its data lives in schema ``schema_name`` of database ``cell``."""

    __tablename__ = "tenants"
    __table_args__ = (CheckConstraint("status in ('active', 'suspended')", name="status"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="active")
    schema_name: Mapped[str] = mapped_column(String(63), unique=True)
    cell_name: Mapped[str] = mapped_column(ForeignKey("cells.name"), default="default")
    template: Mapped[str] = mapped_column(String(100))
    schema_revision: Mapped[str | None] = mapped_column(String(64), index=True)
    last_migration_error: Mapped[str | None] = mapped_column(Text)
    migrated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class TenantSettings(TenantBase):
    """The group's own settings, in its schema (one row): they move, export and drop with it,
    and tenant sessions, which may not read the control plane, can read them."""

    __tablename__ = "tenant_settings"
    __table_args__ = (
        CheckConstraint("id = 1", name="one_row"),
        CheckConstraint(
            "archive_lock_mode in ('governance', 'compliance')", name="archive_lock_mode"
        ),
        CheckConstraint("dormancy_months between 1 and 120", name="dormancy_months"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False, default=1)
    # An IANA name: the group's local dates (delegations, SLAs, R-CASH-3) are days of this zone.
    timezone: Mapped[str] = mapped_column(String(64))
    # S3 Object Lock mode of archived blobs: governance (lifted by a privileged user) or
    # compliance (by nobody until the date).
    archive_lock_mode: Mapped[str] = mapped_column(
        String(16), default="governance", server_default="governance"
    )
    # R-BNK-4: an open account without a bank journal entry for this many months is dormant.
    dormancy_months: Mapped[int] = mapped_column(SmallInteger, default=12, server_default="12")
