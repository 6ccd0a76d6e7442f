"""The baseline of the API read benchmark: plain Flask + SQLAlchemy, none of the platform.

``GET /units?page_size=50`` does what ``/t/<slug>/api/org/units`` does at its core: one
transaction with the tenant schema on the search path, one page of org units in tree order, a
count of all of them for the pager, a JSON list back. No tenant resolution, no token check, no
request hooks, no schema validation.

Served by gunicorn as ``tests.benchmarks.bare_app:app``; reads ``BARE_DATABASE_URL`` (else
``DATABASE_URL``) and ``BARE_SCHEMA`` (e.g. ``t_demo``) from the environment.
"""

from __future__ import annotations

import os

from flask import Flask, jsonify, request
from sqlalchemy import create_engine, text


def _url() -> str:
    url = os.environ.get("BARE_DATABASE_URL") or os.environ["DATABASE_URL"]
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


SCHEMA = os.environ.get("BARE_SCHEMA", "t_demo")
engine = create_engine(_url(), pool_size=5, max_overflow=10)

PAGE = text(
    "select id, parent_id, kind, code, name, depth, active from org_units "
    "order by path, id limit :limit offset :offset"
)
COUNT = text("select count(*) from org_units")
SEARCH_PATH = text("select set_config('search_path', :path, true)")

app = Flask(__name__)
app.json.ensure_ascii = False  # type: ignore[attr-defined]  # as the platform does


@app.get("/units")
def units():
    page_size = min(int(request.args.get("page_size", 50)), 100)
    page = max(int(request.args.get("page", 1)), 1)
    with engine.begin() as connection:
        connection.execute(SEARCH_PATH, {"path": f'"{SCHEMA}"'})
        rows = connection.execute(
            PAGE, {"limit": page_size, "offset": (page - 1) * page_size}
        ).mappings()
        body = [dict(row) for row in rows]
        total = connection.scalar(COUNT)
    response = jsonify(body)
    response.headers["X-Total-Count"] = str(total)
    return response
