"""Every periodic job, declared in this one list; ``propgroup scheduler`` registers them with RQ.

A per-tenant periodic job is fanned out: the scheduler's job writes one outbox message in each
active tenant, and the usual relay and worker take it from there.
"""

from __future__ import annotations

from dataclasses import dataclass

from propgroup.config import get_settings
from propgroup.db import engine_for
from propgroup.jobs.service import enqueue
from propgroup.tenancy import service as tenancy


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    tenant_job: str  # a job of jobs.registry, run in every active tenant
    cron: str | None = None
    interval_seconds: int | None = None


def periodic_job_definitions() -> list[PeriodicJob]:
    return [
        PeriodicJob("storage-orphan-sweep", "storage.sweep_orphans", cron="17 3 * * *"),
        # 09:00 in Shanghai (cron runs in UTC), working days: approvers of overdue steps.
        PeriodicJob("approvals-overdue-reminders", "approvals.remind_overdue", cron="0 1 * * 1-5"),
        # Due dates fall on 1 January; on the 2nd every group's zone has reached the new year.
        PeriodicJob("archives-retention-sweep", "archives.sweep_due", cron="0 2 2 1 *"),
        # Sundays 04:00 Shanghai: every archived file against its recorded sha256.
        PeriodicJob("archives-integrity-check", "archives.check_integrity", cron="0 20 * * 6"),
        # 08:30 Shanghai every day: petty cash due back soon or overdue (R-CASH-4).
        PeriodicJob(
            "cashdesk-petty-cash-reminders", "cashdesk.remind_petty_cash", cron="30 0 * * *"
        ),
        # A week ends at local Monday 00:00: Sunday 10:00 UTC (UTC+14) to Monday 12:00 (UTC-12).
        # Hourly over those two UTC days, each group takes its week soon after its own midnight;
        # the job takes a week once, so the other runs change nothing.
        PeriodicJob("fundreport-take-week", "fundreport.take_week", cron="30 * * * 0,1"),
        # 02:30 Shanghai daily: dormant bank accounts get a closing request proposed (R-BNK-4).
        PeriodicJob("banking-dormancy", "banking.flag_dormant", cron="30 18 * * *"),
        # 09:30 Shanghai every day: overdue bank reconciliations (R-BNK-5, after the 5th).
        PeriodicJob("reconciliation-overdue", "reconciliation.note_overdue", cron="30 1 * * *"),
    ]


def fan_out(tenant_job: str) -> int:
    """Enqueue ``tenant_job`` in every active tenant; returns how many tenants got it."""
    control = engine_for(get_settings().database_url)
    count = 0
    for tenant in tenancy.list_tenants(control):
        if tenant.status != "active":
            continue
        with tenancy.open_tenant_session(control, tenant) as session:
            enqueue(session, tenant_job)
            session.commit()
        count += 1
    return count
