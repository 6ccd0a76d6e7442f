"""Imports every capability's models, so both metadata objects are complete where used."""

from propgroup.identity import models as identity_models
from propgroup.org import models as org_models
from propgroup.tenancy import models as tenancy_models

__all__ = ["identity_models", "org_models", "tenancy_models"]
