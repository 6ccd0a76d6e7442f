"""JSON in and out without floats: numbers arrive as Decimal, Decimals leave as strings.

Responses outside debug are written by orjson, with the stdlib's results: dates, dataclasses
and Decimals go through ``default`` as before, keys that are not strings become strings.
Anything else (indented debug output, other ``dumps`` calls) and parsing stay with the stdlib:
parsing must read numbers as Decimal.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider

_ORJSON_OPTIONS = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)
_COMPACT = (",", ":")


class DecimalJSONProvider(DefaultJSONProvider):
    ensure_ascii = False  # names are Chinese
    sort_keys = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs != {"separators": _COMPACT}:  # what ``response`` asks for outside debug
            return super().dumps(obj, **kwargs)
        try:
            return orjson.dumps(obj, default=self.default, option=_ORJSON_OPTIONS).decode()
        except orjson.JSONEncodeError:  # what orjson cannot write (an int beyond 64 bits)
            return super().dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        # 0.1 stays exactly 0.1: an amount is never rounded through binary floating point.
        return json.loads(s, parse_float=Decimal, **kwargs)

    @staticmethod
    def default(o: Any) -> Any:
        if isinstance(o, Decimal):
            return str(o)
        return DefaultJSONProvider.default(o)
