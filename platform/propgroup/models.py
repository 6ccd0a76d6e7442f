"""Imports every capability's models, so both metadata objects are complete where used."""

from propgroup.api import models as api_models
from propgroup.approvals import models as approvals_models
from propgroup.archives import models as archives_models
from propgroup.audit import models as audit_models
from propgroup.banking import models as banking_models
from propgroup.budgets import models as budgets_models
from propgroup.cashdesk import models as cashdesk_models
from propgroup.fundreport import models as fundreport_models
from propgroup.identity import models as identity_models
from propgroup.jobs import models as jobs_models
from propgroup.org import models as org_models
from propgroup.reconciliation import models as reconciliation_models
from propgroup.storage import models as storage_models
from propgroup.tenancy import models as tenancy_models

__all__ = [
    "api_models",
    "approvals_models",
    "archives_models",
    "audit_models",
    "banking_models",
    "budgets_models",
    "cashdesk_models",
    "fundreport_models",
    "identity_models",
    "jobs_models",
    "org_models",
    "reconciliation_models",
    "storage_models",
    "tenancy_models",
]
