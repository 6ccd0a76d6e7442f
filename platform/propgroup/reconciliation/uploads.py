"""A CSV upload as both the API and the portal receive it: a multipart form with the file and
the column mapping's fields, the file read up to the cap before anything is parsed."""

from __future__ import annotations

from decimal import Decimal

from flask import request

from propgroup.errors import InvalidInput, TooLarge
from propgroup.money import to_money
from propgroup.reconciliation import csvfile
from propgroup.reconciliation.csvfile import Mapping, checked_mapping


def uploaded_csv() -> tuple[bytes, str, Mapping]:
    """The file's bytes, its name and the mapping from the form; refused when too large."""
    if request.content_length is not None and request.content_length > 2 * csvfile.MAX_BYTES:
        raise TooLarge(f"the file is larger than {csvfile.MAX_BYTES} bytes", code="file_too_large")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidInput("choose the CSV file", code="no_file", errors={"file": ["required"]})
    content = upload.stream.read(csvfile.MAX_BYTES + 1)
    return content, upload.filename, checked_mapping(request.form.to_dict())


def entered_amount(field: str) -> Decimal | None:
    """An optional signed amount of the form (a closing balance), None when left empty."""
    raw = (request.form.get(field) or "").strip()
    return to_money(raw, field, signed=True, allow_zero=True) if raw else None
