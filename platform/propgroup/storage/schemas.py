"""API shapes of documents."""

from __future__ import annotations

from marshmallow import fields, validate

from propgroup.api.schema import Schema


class DocumentSchema(Schema):
    id = fields.Integer()
    filename = fields.String()
    content_type = fields.String()
    size_bytes = fields.Integer()
    sha256 = fields.String()
    entity_type = fields.String()
    entity_id = fields.Integer()
    unit_id = fields.Integer(allow_none=True)
    uploaded_by = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class UploadQuerySchema(Schema):
    """The file itself is the request body, streamed as it arrives."""

    filename = fields.String(required=True, validate=validate.Length(min=1, max=255))
    entity_type = fields.String(required=True)
    entity_id = fields.Integer(required=True, validate=validate.Range(min=1))
    unit_id = fields.Integer(required=True, validate=validate.Range(min=1))


class DownloadLinkSchema(Schema):
    url = fields.String()
    expires_in = fields.Integer()


class ContentQuerySchema(Schema):
    token = fields.String(required=True)
