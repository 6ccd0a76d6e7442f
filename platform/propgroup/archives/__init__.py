"""Accounting archives (会计档案, R-ARC-1…4)."""
