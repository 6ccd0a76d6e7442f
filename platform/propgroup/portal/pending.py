"""What waits for the signed-in person (the home page's "pending items"): the approval requests
whose current step they may decide now, as holder of its role or as someone's stand-in (R-APR-5).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from propgroup.approvals.inbox import count_waiting
from propgroup.identity.principals import Principal


def pending_count(session: Session, principal: Principal) -> int:
    return count_waiting(session, principal)
