"""Named tenant jobs. A job is ``fn(session, **payload)`` run inside its tenant's schema."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

TenantJob = Callable[..., Any]
_JOBS: dict[str, TenantJob] = {}


def tenant_job(name: str) -> Callable[[TenantJob], TenantJob]:
    def register(fn: TenantJob) -> TenantJob:
        if name in _JOBS and _JOBS[name] is not fn:
            raise RuntimeError(f"job {name!r} registered twice")
        _JOBS[name] = fn
        return fn

    return register


# Each capability's jobs.py registers its jobs when imported; this list is where they are found.
JOB_MODULES: tuple[str, ...] = (
    "propgroup.storage.jobs",
    "propgroup.approvals.jobs",
    "propgroup.archives.jobs",
    "propgroup.cashdesk.jobs",
    "propgroup.fundreport.jobs",
    "propgroup.banking.jobs",
    "propgroup.reconciliation.jobs",
)


def job_named(name: str) -> TenantJob | None:
    for module in JOB_MODULES:
        importlib.import_module(module)
    return _JOBS.get(name)


@tenant_job("noop")
def noop(session: Session, **_: Any) -> None:
    """A job that does nothing: lets operators check the pipe end to end."""
