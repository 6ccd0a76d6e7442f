"""The audit trail (审计日志): every decision and change, append-only, hash-chained per tenant."""
