"""Who is acting: a signed-in user, an API client, or the system (jobs, CLI).

Services take a Principal, never a request, so the same rules hold for portal, API and jobs.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    kind: str  # "user" | "client" | "system"
    id: int | None
    name: str
    scopes: frozenset[str] = frozenset()  # a client's whole grant; users are bounded by roles
    # A user acting through a personal token: their roles, narrowed to these actions.
    token_scopes: frozenset[str] | None = None
    unit_path: str | None = None  # a client restricted to one unit's subtree
    acting_for: str | None = None  # delegation: "A for B" (R-APR-5)
    request_id: str | None = None


SYSTEM = Principal(kind="system", id=None, name="system")
