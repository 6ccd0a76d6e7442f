"""The base of every API schema: marshmallow, with a dump that skips its layers for plain values.

A page of 50 rows is 350 values, and marshmallow spends most of a listing request calling four
accessor layers per value. When a field is a plain Integer, String or Boolean and the value
already has the exact type the field would produce (or is None), the field's output is that value
itself, so it is copied as is. Every other field or value goes through marshmallow unchanged,
and hooks (``pre_dump``/``post_dump``) still run: only ``_serialize`` is replaced. A list of
Core rows (one result's, sharing their columns) reads each plain value by its position.
"""

from __future__ import annotations

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


class _Slot(NamedTuple):
    key: str  # output key
    name: str  # the schema's field name, which marshmallow passes to the field
    source: str  # the attribute or key read from the object
    plain: type | None  # the value type that is copied as is, when the field allows it
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
            plain = _PLAIN_TYPES.get(type(field))
            if (
                not default_accessor
                or "." in source
                or getattr(field, "as_string", False)
                or type(field).serialize is not fields.Field.serialize
                or type(field).get_value is not fields.Field.get_value
            ):
                plain = None
            key = field.data_key if field.data_key is not None else name
            slots.append(_Slot(key, name, source, plain, field))
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
            (key, position.get(source) if plain else None, plain, name, field)
            for key, name, source, plain, field in self._slots
        ]
        out = []
        for row in rows:
            item = self.dict_class()
            for key, index, plain, name, field in plan:
                if index is not None:
                    value = row[index]
                    if value is None or type(value) is plain:
                        item[key] = value
                        continue
                value = field.serialize(name, row, accessor=self.get_attribute)
                if value is not missing:
                    item[key] = value
            out.append(item)
        return out

    def _serialize_one(self, obj: Any) -> dict[str, Any]:
        out = self.dict_class()
        indexable = hasattr(obj, "__getitem__")
        for key, name, source, plain, field in self._slots:
            if plain is not None:
                value = _read(obj, source, indexable)
                if value is None or type(value) is plain:
                    out[key] = value
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
