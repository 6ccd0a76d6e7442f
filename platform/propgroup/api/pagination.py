"""Page pagination over an SQL select: only the requested page is loaded; the total is a count."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_smorest import Page
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Selection:
    """What a paginated view returns (a tuple would read as Flask's ``(body, status)``)."""

    session: Session
    statement: Select[Any]  # must carry a stable ORDER BY
    rows: bool = False  # plain column rows (faster to serialise) instead of ORM objects


class SelectPage(Page):
    @property
    def items(self):  # type: ignore[override]
        selection: Selection = self.collection
        params = self.page_params
        query = selection.statement.offset(params.first_item).limit(params.page_size)
        if selection.rows:
            return selection.session.execute(query).mappings().all()
        return selection.session.scalars(query).all()

    @property
    def item_count(self) -> int:  # type: ignore[override]
        selection: Selection = self.collection
        counted = select(func.count()).select_from(selection.statement.order_by(None).subquery())
        return selection.session.scalar(counted) or 0
