"""Domain errors raised by services and mapped to HTTP (API) or exit codes (CLI).

Services raise these instead of Flask exceptions so the rules stay free of web imports.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal the caller can act on; `status` is the HTTP status it maps to."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, errors: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.errors = errors or {}

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "errors": self.errors}


class InvalidInput(DomainError):
    status = 422
    code = "invalid_input"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class TooLarge(InvalidInput):
    status = 413
    code = "too_large"


class Unavailable(DomainError):
    status = 503
    code = "unavailable"
