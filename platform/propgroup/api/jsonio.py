"""JSON in and out without floats: numbers arrive as Decimal, Decimals leave as strings."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from flask.json.provider import DefaultJSONProvider


class DecimalJSONProvider(DefaultJSONProvider):
    ensure_ascii = False  # names are Chinese
    sort_keys = False

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        # 0.1 stays exactly 0.1: an amount is never rounded through binary floating point.
        return json.loads(s, parse_float=Decimal, **kwargs)

    @staticmethod
    def default(o: Any) -> Any:
        if isinstance(o, Decimal):
            return str(o)
        return DefaultJSONProvider.default(o)
