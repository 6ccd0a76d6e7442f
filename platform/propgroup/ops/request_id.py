"""A request id on every response header and every log line, taken from the caller when sane."""

from __future__ import annotations

import logging
import re
import uuid

from flask import Flask, Response, g, has_request_context, request

HEADER = "X-Request-ID"
_ACCEPTABLE = re.compile(r"[A-Za-z0-9._:-]{8,64}")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


def current_request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


def _assign() -> None:
    incoming = request.headers.get(HEADER, "")
    g.request_id = incoming if _ACCEPTABLE.fullmatch(incoming) else uuid.uuid4().hex


def _echo(response: Response) -> Response:
    response.headers[HEADER] = g.get("request_id", "")
    return response


def init_request_id(app: Flask) -> None:
    app.before_request(_assign)
    app.after_request(_echo)
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")
    )
    app.logger.handlers[:] = [handler]
    logging.getLogger("propgroup").addHandler(handler)
