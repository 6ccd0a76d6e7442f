"""The base of every API schema: marshmallow, with a dump that skips its layers for plain values.

A page of 50 rows is 350 values, and marshmallow spends most of a listing request calling four
accessor layers per value. When a field is a plain Integer, String or Boolean and the value
already has the exact type the field would produce (or is None), the field's output is that value
itself, so it is copied as is; an ISO Date or DateTime and a Decimal as string of such a value
become what marshmallow would make of it, in one call (``isoformat``, ``format(value, "f")``).
Every other field or value goes through marshmallow unchanged, and hooks
(``pre_dump``/``post_dump``) still run: only ``_serialize`` is replaced. A list of
Core rows (one result's, sharing their columns) reads each value by its position.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property
from typing import Any, NamedTuple

import marshmallow
from marshmallow import fields, missing
from sqlalchemy import Row, inspect

# Field classes (exactly these, not subclasses) whose output is their input for these types.
_PLAIN_TYPES: dict[type[fields.Field], type] = {
    fields.Integer: int,
    fields.String: str,
    fields.Boolean: bool,
}
_ISO_FORMATS = (None, "iso", "iso8601")


def _fast_path(field: fields.Field) -> tuple[type, Callable[[Any], Any] | None] | None:
    """The value type a field's output is computed for directly, and how (None: as is)."""
    kind = type(field)
    if kind in _PLAIN_TYPES and not getattr(field, "as_string", False):
        return _PLAIN_TYPES[kind], None
    if kind is fields.DateTime and field.format in _ISO_FORMATS:
        return datetime, datetime.isoformat
    if kind is fields.Date and field.format in _ISO_FORMATS:
        return date, date.isoformat
    # marshmallow: format(Decimal(str(value)), "f"), and Decimal(str(d)) is d exactly.
    if kind is fields.Decimal and field.as_string and field.places is None and not field.allow_nan:
        return Decimal, _plain_decimal
    return None


def _plain_decimal(value: Decimal) -> str:
    return format(value, "f")


class _Slot(NamedTuple):
    key: str  # output key
    name: str  # the schema's field name, which marshmallow passes to the field
    source: str  # the attribute or key read from the object
    fast_type: type | None  # the value type whose output is computed here, when the field allows
    convert: Callable[[Any], Any] | None  # … how (None: copied as is)
    field: fields.Field


def _read(obj: Any, key: str, indexable: bool) -> Any:
    """marshmallow's ``utils.get_value`` for a key without dots: item first, then attribute."""
    if not indexable:
        return getattr(obj, key, missing)
    try:
        return obj[key]
    except (KeyError, IndexError, TypeError, AttributeError):
        return getattr(obj, key, missing)


class Schema(marshmallow.Schema):
    @cached_property
    def _slots(self) -> tuple[_Slot, ...]:
        default_accessor = type(self).get_attribute is marshmallow.Schema.get_attribute
        slots = []
        for name, field in self.dump_fields.items():
            source = field.attribute or name
            fast = _fast_path(field)
            if (
                not default_accessor
                or "." in source
                or type(field).serialize is not fields.Field.serialize
                or type(field).get_value is not fields.Field.get_value
            ):
                fast = None
            key = field.data_key if field.data_key is not None else name
            slots.append(_Slot(key, name, source, *(fast or (None, None)), field))
        return tuple(slots)

    def _serialize(self, obj: Any, *, many: bool = False) -> Any:
        if many and obj is not None:
            if isinstance(obj, list) and obj and isinstance(obj[0], Row):
                return self._serialize_rows(obj)
            return [self._serialize_one(item) for item in obj]
        return self._serialize_one(obj)

    def _serialize_rows(self, rows: list[Row[Any]]) -> list[dict[str, Any]]:
        position = {column: index for index, column in enumerate(rows[0]._fields)}
        plan = [
            (key, position.get(source) if fast_type else None, fast_type, convert, name, field)
            for key, name, source, fast_type, convert, field in self._slots
        ]
        out = []
        for row in rows:
            item = self.dict_class()
            for key, index, fast_type, convert, name, field in plan:
                if index is not None:
                    value = row[index]
                    if value is None:
                        item[key] = None
                        continue
                    if type(value) is fast_type:
                        item[key] = value if convert is None else convert(value)
                        continue
                value = field.serialize(name, row, accessor=self.get_attribute)
                if value is not missing:
                    item[key] = value
            out.append(item)
        return out

    def _serialize_one(self, obj: Any) -> dict[str, Any]:
        out = self.dict_class()
        indexable = hasattr(obj, "__getitem__")
        for key, name, source, fast_type, convert, field in self._slots:
            if fast_type is not None:
                value = _read(obj, source, indexable)
                if value is None:
                    out[key] = None
                    continue
                if type(value) is fast_type:
                    out[key] = value if convert is None else convert(value)
                    continue
            value = field.serialize(name, obj, accessor=self.get_attribute)
            if value is not missing:
                out[key] = value
        return out


def columns_of(row: object) -> dict[str, Any]:
    """A mapped object's column values, to dump alongside what an endpoint adds to them."""
    return {
        attribute.key: getattr(row, attribute.key) for attribute in inspect(row).mapper.column_attrs
    }
