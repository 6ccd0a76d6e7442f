"""Tenancy: registry, resolution, provisioning and the migration runner (多租户)."""
