"""The week-end job of the fund report: take the week just over, once."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from propgroup.fundreport import service
from propgroup.jobs.registry import tenant_job


@tenant_job("fundreport.take_week")
def take_week(session: Session, **_: Any) -> dict[str, Any]:
    """The latest week over in the group's zone, unless it was taken already (R-REP-2)."""
    week, taken = service.ensure_week(session, service.last_ended_week(session))
    return {"week_ending": week.week_ending.isoformat(), "taken": taken}
