"""Cells: the PostgreSQL databases tenant schemas live in."""

from __future__ import annotations

import os
import time

from sqlalchemy import Engine, select

from propgroup.db import engine_for
from propgroup.errors import InvalidInput, NotFound
from propgroup.tenancy.models import Cell

DEFAULT_CELL = "default"


def resolve_cell_url(control: Engine, cell_name: str) -> str | None:
    """The cell's database URL, or None when it is the control plane's own database."""
    with control.connect() as connection:
        row = connection.execute(select(Cell.database_url).where(Cell.name == cell_name)).first()
    if row is None:
        raise NotFound(f"cell {cell_name!r} does not exist", code="unknown_cell")
    url = row.database_url
    if url and url.startswith("env:"):
        url = os.environ.get(url[4:])
        if not url:
            raise InvalidInput(f"cell {cell_name!r} names an unset variable", code="cell_unset")
    return url


# Where a cell lives changes only when an operator moves it; one lookup per process per minute.
_CELL_CACHE_SECONDS = 60.0
_cells: dict[tuple[Engine, str], tuple[float, str | None]] = {}


def cell_engine(control: Engine, cell_name: str) -> Engine:
    key, now = (control, cell_name), time.monotonic()  # an engine lives as long as the process
    cached = _cells.get(key)
    if cached is None or cached[0] < now:
        cached = (now + _CELL_CACHE_SECONDS, resolve_cell_url(control, cell_name))
        _cells[key] = cached
    return control if cached[1] is None else engine_for(cached[1])
