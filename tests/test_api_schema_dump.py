"""The API schemas' fast dump gives exactly what marshmallow's own dump gives, for any value."""

from __future__ import annotations

from datetime import UTC
from types import SimpleNamespace

import marshmallow
from hypothesis import given
from hypothesis import strategies as st
from marshmallow import fields

from propgroup.api.schema import Schema

ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=5),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
    st.sampled_from(["true", "0", "off", 1, 0]),  # Boolean's truthy/falsy spellings
)


class Leaf(Schema):
    id = fields.Integer()


FIELDS = {
    "id": fields.Integer(),
    "name": fields.String(),
    "active": fields.Boolean(),
    "renamed": fields.String(attribute="other", data_key="shown"),
    "code": fields.Integer(as_string=True),
    "amount": fields.Decimal(as_string=True),
    "at": fields.DateTime(),
    "day": fields.Date(),
    "nested": fields.Nested(Leaf, allow_none=True),
    "fallback": fields.String(dump_default="none given"),
}
Fast = Schema.from_dict(FIELDS, name="Fast")
Plain = marshmallow.Schema.from_dict(FIELDS, name="Plain")  # marshmallow's own _serialize


@given(
    values=st.fixed_dictionaries(
        {"id": ANY_VALUE, "name": ANY_VALUE, "active": ANY_VALUE, "other": ANY_VALUE}
    ),
    code=st.one_of(st.none(), st.integers()),
    amount=st.one_of(st.none(), st.decimals(), st.integers(), st.text(max_size=3)),
    at=st.one_of(st.none(), st.datetimes(timezones=st.sampled_from([None, UTC])), st.dates()),
    day=st.one_of(st.none(), st.dates(), st.datetimes()),
    as_mapping=st.booleans(),
    drop=st.sets(st.sampled_from(["id", "name", "other", "code", "amount", "at", "day"])),
)
def test_fast_dump_equals_marshmallow_dump(values, code, amount, at, day, as_mapping, drop):
    data = {
        **values,
        "code": code,
        "amount": amount,
        "at": at,
        "day": day,
        "nested": {"id": 7},
    }
    for key in drop:  # a missing key is left out (or defaulted), never dumped as None
        del data[key]
    obj = data if as_mapping else SimpleNamespace(**data)
    try:
        expected = Plain().dump(obj)
    except (TypeError, ValueError, ArithmeticError) as error:  # marshmallow refuses: so must we
        try:
            Fast().dump(obj)
        except type(error):
            return
        raise AssertionError(f"fast dump accepted what marshmallow refused: {data}") from None
    # repr, not ==: True == 1, but an Integer must dump True as 1
    assert repr(Fast().dump(obj)) == repr(expected)
    assert repr(Fast(many=True).dump([obj, obj])) == repr([expected, expected])
