"""Background jobs: an outbox written with the business change, relayed to RQ, run per tenant."""
