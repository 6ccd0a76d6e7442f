"""Banking jobs: the daily dormancy check (R-BNK-4)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from propgroup.approvals.service import today
from propgroup.banking.dormancy import flag_dormant
from propgroup.jobs.registry import tenant_job


@tenant_job("banking.flag_dormant")
def flag_dormant_accounts(session: Session, **_: Any) -> int:
    """Open accounts unused for the tenant's months, or whose single purpose is finished, are
    flagged and a closing request is proposed (once per account)."""
    return len(flag_dormant(session, today(session)))
