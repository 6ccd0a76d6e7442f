"""Tiered approvals (审批): one engine for every request type, driven by a policy matrix."""
