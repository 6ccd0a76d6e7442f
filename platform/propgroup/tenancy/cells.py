"""Cells: the PostgreSQL databases tenant schemas live in."""

from __future__ import annotations

import os

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


def cell_engine(control: Engine, cell_name: str) -> Engine:
    url = resolve_cell_url(control, cell_name)
    return control if url is None else engine_for(url)
