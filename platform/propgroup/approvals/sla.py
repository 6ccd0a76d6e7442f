"""When a step is due (issue: SLA per step, default 2 working days) and which are overdue."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

WEEKEND = (5, 6)  # Saturday, Sunday; public holidays are not modelled yet


def due_after(start: datetime, working_days: int, tz: ZoneInfo) -> datetime:
    """``working_days`` working days after ``start``, at the same local time of day."""
    local = start.astimezone(tz)
    remaining = working_days
    while remaining > 0:
        local += timedelta(days=1)
        if local.weekday() not in WEEKEND:
            remaining -= 1
    return local
