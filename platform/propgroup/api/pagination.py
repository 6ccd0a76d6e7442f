"""Page pagination over an SQL select: one query brings the requested page and the total.

The total is ``count(*) over ()`` on the page query, which PostgreSQL computes before LIMIT and
OFFSET, so a page costs one round trip instead of two. Only a page past the end, which has no row
to carry the total, needs a separate count.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from flask_smorest import Page
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

MAX_PAGE_SIZE = 100
TOTAL = "total_rows"  # the extra column; schemas dump declared fields only, so it never leaks


@dataclass(frozen=True)
class Selection:
    """What a paginated view returns (a tuple would read as Flask's ``(body, status)``)."""

    session: Session
    statement: Select[Any]  # must carry a stable ORDER BY
    rows: bool = False  # plain column rows (faster to serialise) instead of ORM objects


class SelectPage(Page):
    @cached_property
    def _page(self) -> tuple[list[Any], int]:
        selection: Selection = self.collection
        params = self.page_params
        query = (
            selection.statement.add_columns(func.count().over().label(TOTAL))
            .offset(params.first_item)
            .limit(params.page_size)
        )
        if selection.rows:
            # Core execution: plain columns need none of the ORM's result processing.
            rows = selection.session.connection().execute(query).all()
            items: list[Any] = [row._mapping for row in rows]
        else:
            rows = selection.session.execute(query).all()
            items = [row[0] for row in rows]
        if rows:
            return items, rows[0][-1]
        return items, self._count() if params.first_item else 0

    def _count(self) -> int:
        selection: Selection = self.collection
        counted = select(func.count()).select_from(selection.statement.order_by(None).subquery())
        return selection.session.scalar(counted) or 0

    @property
    def items(self):  # type: ignore[override]
        return self._page[0]

    @property
    def item_count(self) -> int:  # type: ignore[override]
        return self._page[1]
