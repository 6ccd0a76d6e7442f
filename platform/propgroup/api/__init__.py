"""API plumbing shared by every capability: the Api and Blueprint classes and JSON errors.

Thin subclasses live here so later customisation (pagination, idempotency) needs no import changes.
"""

from __future__ import annotations

import json
import logging
import re
from functools import cache
from typing import Any

import flask_smorest
import marshmallow
from flask import Flask, jsonify
from flask_smorest.pagination import PaginationParameters
from sqlalchemy.exc import OperationalError
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

from propgroup.db import unstorable_text
from propgroup.errors import DomainError

log = logging.getLogger(__name__)


@cache
def _schema_instance(schema_class: type[marshmallow.Schema]) -> marshmallow.Schema:
    return schema_class()


class _Parser(FlaskParser):
    """webargs builds a new schema per request when given a class, as flask-smorest's pagination
    does; loading keeps no state on the schema, so one instance per class serves every request.
    """

    def _get_schema(self, argmap: Any, req: Any) -> marshmallow.Schema:
        if isinstance(argmap, type) and issubclass(argmap, marshmallow.Schema):
            return _schema_instance(argmap)
        return super()._get_schema(argmap, req)

    def parse(self, argmap: Any, req: Any = None, **kwargs: Any) -> Any:
        """A query naming none of the schema's optional, default-less, hook-less fields loads as
        ``{}`` (other query arguments are excluded anyway), as a list without filters does."""
        schema_like = isinstance(argmap, (type, marshmallow.Schema))  # a dict cannot be cached
        if kwargs.get("location") == "query" and schema_like and not kwargs.get("validate"):
            keys = _optional_query_keys(argmap)
            query = (req if req is not None else self.get_default_request()).args
            if keys is not None and keys.isdisjoint(query.keys()):
                return {}
        return super().parse(argmap, req, **kwargs)


@cache
def _optional_query_keys(argmap: Any) -> frozenset[str] | None:
    """The keys a query schema reads, when loading without any of them is ``{}``; else None."""
    if isinstance(argmap, type) and issubclass(argmap, marshmallow.Schema):
        argmap = _schema_instance(argmap)
    if not isinstance(argmap, marshmallow.Schema) or any(argmap._hooks.values()):
        return None
    fields = argmap.load_fields
    if any(f.required or f.load_default is not marshmallow.missing for f in fields.values()):
        return None
    return frozenset(field.data_key or name for name, field in fields.items())


_DIGITS = re.compile(r"[1-9][0-9]{0,5}")


class _PageParser(_Parser):
    """``page`` and ``page_size`` as plain digits within bounds (every client's usual query)
    become the pager's parameters directly; anything else takes marshmallow's way, with its
    messages."""

    def parse(self, argmap: Any, req: Any = None, **kwargs: Any) -> Any:
        bounds = _page_bounds(argmap)
        if bounds is not None and req is not None:
            page, page_size = (req.args.get(key) for key in ("page", "page_size"))
            default_page, default_size, max_size = bounds
            if (page is None or _DIGITS.fullmatch(page)) and (
                page_size is None or _DIGITS.fullmatch(page_size)
            ):
                size = int(page_size) if page_size else default_size
                if size <= max_size:
                    return PaginationParameters(int(page) if page else default_page, size)
        return super().parse(argmap, req, **kwargs)


@cache
def _page_bounds(schema_class: Any) -> tuple[int, int, int] | None:
    """(default page, default page size, largest page size) of flask-smorest's pagination
    schema; None when it does not look as expected, so the full parse runs."""
    try:
        fields = schema_class._declared_fields
        (size_range,) = fields["page_size"].validators
        return fields["page"].load_default, fields["page_size"].load_default, size_range.max
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = _Parser()
    PAGINATION_ARGUMENTS_PARSER = _PageParser()

    @staticmethod
    def _make_pagination_metadata(page: int, page_size: int, item_count: int) -> dict[str, int]:
        """flask-smorest's metadata without the schema it builds per request to dump plain ints."""
        if item_count == 0:
            return {"total": 0, "total_pages": 0}
        last_page = (item_count - 1) // page_size + 1
        metadata = {"total": item_count, "total_pages": last_page, "first_page": 1}
        metadata["last_page"] = last_page
        if page <= last_page:
            metadata["page"] = page
            if page > 1:
                metadata["previous_page"] = page - 1
            if page < last_page:
                metadata["next_page"] = page + 1
        return metadata

    def _set_pagination_metadata(self, page_params, result, headers):  # type: ignore[override]
        """Plus ``"more": true`` when a capped page's total is a lower bound (pagination.py)."""
        metadata = self._make_pagination_metadata(
            page_params.page, page_params.page_size, page_params.item_count
        )
        if getattr(page_params, "more", False):
            metadata["more"] = True
        headers = headers if headers is not None else {}
        headers[self.PAGINATION_HEADER_NAME] = json.dumps(metadata)
        return result, headers


def error_body(code: str, message: str, errors: Any = None) -> dict[str, Any]:
    return {"code": code, "message": message, "errors": errors or {}}


class Api(flask_smorest.Api):
    """Every error is ``{"code", "message", "errors"}`` JSON with its own status; never HTML."""

    def init_app(self, app: Flask, *args: Any, **kwargs: Any) -> None:
        super().init_app(app, *args, **kwargs)
        app.register_error_handler(DomainError, self.handle_domain_error)
        app.register_error_handler(Exception, self.handle_unexpected)

    def handle_http_exception(self, error: HTTPException):  # type: ignore[override]
        code = (error.name or "error").lower().replace(" ", "_")
        data = getattr(error, "data", None) or {}
        # webargs puts validation messages under data["messages"]; flatten one location level.
        messages = data.get("messages", {})
        if len(messages) == 1:
            messages = next(iter(messages.values()))
        message = data.get("message") or error.description or error.name
        response = jsonify(error_body(code, message, messages))
        response.status_code = error.code or 500
        for name, value in (data.get("headers") or {}).items():
            response.headers[name] = value
        return response

    @staticmethod
    def handle_domain_error(error: DomainError):
        response = jsonify(error.to_dict())
        response.status_code = error.status
        return response

    @classmethod
    def handle_unexpected(cls, error: Exception):
        refused = unstorable_text(error)
        if refused is not None:
            return cls.handle_domain_error(refused)
        if isinstance(error, OperationalError):
            log.warning("database unavailable: %s", error)
            response = jsonify(error_body("database_unavailable", "the database is not answering"))
            response.status_code = 503
            return response
        log.exception("unhandled error")
        response = jsonify(error_body("internal_error", "an unexpected error occurred"))
        response.status_code = 500
        return response
