"""PropGroup: finance control for property-management groups (物业集团财务管理)."""

__version__ = "0.1.0"
