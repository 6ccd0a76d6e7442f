"""A tenant's settings, kept in its own schema (``tenant_settings``): its timezone, in which every
local date of the group is counted (delegation days, SLA due times, R-CASH-3), the Object Lock
mode of its archived blobs, and when a bank account counts as dormant (R-BNK-4)."""

from __future__ import annotations

import time
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from sqlalchemy import select
from sqlalchemy.orm import Session

from propgroup.errors import Conflict, InvalidInput
from propgroup.tenancy.models import TenantSettings
from propgroup.tenancy.slugs import SCHEMA_PREFIX, tenant_slug

DEFAULT_TIMEZONE = "Asia/Shanghai"


@lru_cache(maxsize=1)
def _iana_names() -> frozenset[str]:
    return frozenset(available_timezones())


def is_iana_zone(name: object) -> bool:
    """A name of the IANA database (``Asia/Shanghai``); not a file path, offset or abbreviation,
    which ``ZoneInfo`` would partly accept."""
    return isinstance(name, str) and name in _iana_names()


def zone_named(name: object) -> ZoneInfo:
    if not is_iana_zone(name):
        raise InvalidInput(
            f"unknown timezone {str(name)[:60]!r}: use an IANA name such as {DEFAULT_TIMEZONE}",
            code="bad_timezone",
            errors={"timezone": [str(name)[:60]]},
        )
    return ZoneInfo(name)


def store_settings(session: Session, *, timezone: str, archive_lock_mode: str) -> None:
    """The settings row of a new tenant (provisioning)."""
    session.add(
        TenantSettings(timezone=zone_named(timezone).key, archive_lock_mode=archive_lock_mode)
    )
    session.flush()


def archive_lock_mode(session: Session) -> str:
    return session.scalar(select(TenantSettings.archive_lock_mode)) or "governance"


def dormancy_months(session: Session) -> int:
    """R-BNK-4: months without a bank journal entry after which an open account is dormant."""
    return session.scalar(select(TenantSettings.dormancy_months)) or 12


# Local dates are read on hot paths (the inbox, every decision, list filters), and the zone is
# set at provisioning: one read per tenant per process per minute, like a cell's location.
_ZONE_CACHE_SECONDS = 60.0
_zones: dict[tuple[str, str], tuple[float, ZoneInfo]] = {}


def tenant_zone(session: Session) -> ZoneInfo:
    """The timezone of the tenant the session is bound to."""
    key = (str(session.get_bind().engine.url), SCHEMA_PREFIX + tenant_slug(session))
    now = time.monotonic()
    cached = _zones.get(key)
    if cached is None or cached[0] < now:
        name = session.scalar(select(TenantSettings.timezone))
        if name is None:
            raise Conflict("this group has no settings row", code="no_tenant_settings")
        cached = (now + _ZONE_CACHE_SECONDS, ZoneInfo(name))
        _zones[key] = cached
    return cached[1]
