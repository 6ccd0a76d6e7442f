"""``Idempotency-Key`` on POST: same key and body → the stored response; other body → 422.

The key row is written in the request's own transaction, so it exists exactly when the change
does: a failed request leaves no key behind and may be retried. A concurrent duplicate waits on
the first one's row (INSERT … ON CONFLICT) and then replays its response.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, jsonify, request
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from propgroup.api.auth import current_principal
from propgroup.api.models import IdempotencyRecord
from propgroup.errors import InvalidInput
from propgroup.tenancy.middleware import tenant_db

HEADER = "Idempotency-Key"
_KEY = re.compile(r"[\x21-\x7e]{1,128}")


def _fingerprint() -> str:
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _replay(record: IdempotencyRecord) -> Response:
    response = jsonify(record.response_body)
    response.status_code = record.status_code or 200
    response.headers["Idempotent-Replayed"] = "true"
    return response


def idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not _KEY.fullmatch(key):
            raise InvalidInput(f"{HEADER} must be 1-128 visible ASCII characters", code="bad_key")
        principal = current_principal()
        owner, fingerprint, session = (
            f"{principal.kind}:{principal.id}",
            _fingerprint(),
            tenant_db(),
        )
        inserted = session.scalar(
            insert(IdempotencyRecord)
            .values(principal=owner, key=key, request_sha256=fingerprint)
            .on_conflict_do_nothing(index_elements=["principal", "key"])
            .returning(IdempotencyRecord.id)
        )
        if inserted is None:
            record = session.scalar(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.principal == owner, IdempotencyRecord.key == key
                )
            )
            if record.request_sha256 != fingerprint:
                raise InvalidInput(
                    f"this {HEADER} was used with a different request", code="idempotency_mismatch"
                )
            return _replay(record)
        response = view(*args, **kwargs)
        record = session.get(IdempotencyRecord, inserted)
        record.status_code, record.response_body = response.status_code, response.get_json()
        return response

    return wrapper
