"""What waits for the signed-in person (the home page's "pending items").

No request type exists yet, so nothing can wait for anyone: the count is honestly 0. When the
approvals engine lands, point this at its service (steps assigned to ``principal`` and not decided).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from propgroup.identity.principals import Principal


def pending_count(session: Session, principal: Principal) -> int:
    del session, principal  # used once approvals exist
    return 0
