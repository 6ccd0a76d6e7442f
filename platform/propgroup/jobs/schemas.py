"""API shapes of outbox messages."""

from __future__ import annotations

from marshmallow import fields, validate

from propgroup.api.schema import Schema
from propgroup.jobs.models import OUTBOX_STATUSES


class OutboxMessageSchema(Schema):
    id = fields.Integer()
    job = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)


class OutboxQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(OUTBOX_STATUSES))
