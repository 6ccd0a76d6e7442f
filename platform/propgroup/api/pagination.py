"""Page pagination over an SQL select: one query brings the requested page and the total.

The total is ``count(*) over ()`` on the page query, which PostgreSQL computes before LIMIT and
OFFSET, so a page costs one round trip instead of two. Only a page past the end, which has no row
to carry the total, needs a separate count.

A large table's search is ``capped``: the window would read every matching row (a million for a
broad search) to count them. Such a page reads only its rows, and counts at most ``COUNT_AHEAD``
rows past its first; when there are more, ``X-Pagination`` says ``"more": true`` and its total is
a lower bound (always enough for ``next_page``). A short page knows its total without counting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_smorest import Page
from sqlalchemy import Select, func, literal, select
from sqlalchemy.orm import Session

MAX_PAGE_SIZE = 100
TOTAL = "total_rows"  # the extra column; schemas dump declared fields only, so it never leaks
COUNT_AHEAD = 1000
_TOTAL = func.count().over().label(TOTAL)  # built once: statements share their parts


@dataclass(frozen=True)
class Selection:
    """What a paginated view returns (a tuple would read as Flask's ``(body, status)``)."""

    session: Session
    statement: Select[Any]  # must carry a stable ORDER BY
    rows: bool = False  # plain column rows (faster to serialise) instead of ORM objects
    capped: bool = False  # count at most COUNT_AHEAD rows past the page's first


class SelectPage(Page):
    more = False  # capped, and more rows match than were counted

    def _rows(self, query: Select[Any]) -> tuple[list[Any], list[Any]]:
        selection: Selection = self.collection
        query = query.offset(self.page_params.first_item).limit(self.page_params.page_size)
        if selection.rows:
            # Core execution: plain columns need none of the ORM's result processing.
            rows = selection.session.connection().execute(query).all()
            return rows, rows
        rows = selection.session.execute(query).all()
        return rows, [row[0] for row in rows]

    _read: tuple[list[Any], int] | None = None

    @property
    def _page(self) -> tuple[list[Any], int]:
        # Not functools.cached_property: on Python 3.11 it computes under one lock per class, so
        # a threaded worker would run one page query at a time.
        if self._read is None:
            self._read = self._read_page()
        return self._read

    def _read_page(self) -> tuple[list[Any], int]:
        selection: Selection = self.collection
        first = self.page_params.first_item
        if selection.capped:
            rows, items = self._rows(selection.statement)
            if rows and len(rows) < self.page_params.page_size:
                return items, first + len(rows)
            return items, self._capped_count(first + COUNT_AHEAD)
        rows, items = self._rows(selection.statement.add_columns(_TOTAL))
        if rows:
            return items, rows[0][-1]
        return items, self._count() if first else 0

    def _count(self) -> int:
        selection: Selection = self.collection
        counted = select(func.count()).select_from(selection.statement.order_by(None).subquery())
        return selection.session.scalar(counted) or 0

    def _capped_count(self, limit: int) -> int:
        selection: Selection = self.collection
        ahead = (
            selection.statement.with_only_columns(literal(1), maintain_column_froms=True)
            .order_by(None)
            .limit(limit + 1)
        )
        counted = selection.session.scalar(select(func.count()).select_from(ahead.subquery())) or 0
        self.more = counted > limit
        return min(counted, limit)

    @property
    def items(self):  # type: ignore[override]
        return self._page[0]

    @property
    def item_count(self) -> int:  # type: ignore[override]
        count = self._page[1]
        self.page_params.more = self.more  # read by Blueprint for the header
        return count
