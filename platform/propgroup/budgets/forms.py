"""The portal's forms for budgets: a plan version's grid of lines, and the filters of the pages.

They check what a browser can get wrong (an amount that is not one, a year out of range) and say
so in the reader's language; every rule stays the service's, whose refusals are put back beside
the line and the cell they name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from propgroup.budgets.figures import VERSION_SETS
from propgroup.budgets.models import PLAN_KINDS, BudgetCategory
from propgroup.budgets.periods import DIGITS, FISCAL_YEARS, MONTHS
from propgroup.errors import DomainError
from propgroup.portal.formatting import parse_amount

MONTH_LABELS = [
    _l("Jan"),
    _l("Feb"),
    _l("Mar"),
    _l("Apr"),
    _l("May"),
    _l("Jun"),
    _l("Jul"),
    _l("Aug"),
    _l("Sep"),
    _l("Oct"),
    _l("Nov"),
    _l("Dec"),
]
MAX_LINES = 500  # far more than a chart has leaves; a form posting more is not ours
# An owner as the grid's select names it, "department:<code>" or "person:<login>".
OWNER_FIELDS = {"department": "owner_department", "person": "owner_login"}
_PROBLEM = re.compile(r"lines\[(\d+)\]\.(category|owner_department|owner_login|amounts)\.?(.*)")
ZERO = Decimal("0.00")


@dataclass
class GridLine:
    """One line as typed: a category, its owner, twelve months; problems by cell."""

    category: str
    owner: str = ""
    amounts: list[str] = field(default_factory=lambda: [""] * 12)
    note: str | None = None
    # Problems by what they are about: "line" (the whole line), "owner", or a month ("1"-"12").
    errors: dict[str, str] = field(default_factory=dict)

    def cell(self, month: int) -> str:
        return f"m{month}-{self.category}"

    def messages(self) -> list[str]:
        """What is wrong with the line, a month named by its label."""
        return [
            _("%(month)s: %(problem)s", month=MONTH_LABELS[int(key) - 1], problem=message)
            if key.isdigit()
            else message
            for key, message in self.errors.items()
        ]

    def invalid_fields(self) -> list[str]:
        """Names of the inputs to mark (the script marks them after an htmx save too)."""
        names = {"owner": f"owner-{self.category}"}
        return [names.get(key) or self.cell(int(key)) for key in self.errors if key != "line"]


@dataclass
class Grid:
    """A version's lines as the grid shows and posts them."""

    lines: list[GridLine]
    errors: list[str] = field(default_factory=list)  # about the plan as a whole
    reshaped: bool = False  # a line was added or removed, not only values changed

    @classmethod
    def from_saved(cls, lines: list[dict[str, Any]]) -> Grid:
        return cls(
            [
                GridLine(
                    category=line["category"],
                    owner=_owner_value(line),
                    amounts=["" if amount == ZERO else str(amount) for amount in line["amounts"]],
                    note=line["note"],
                )
                for line in lines
            ]
        )

    @classmethod
    def from_post(cls, form, notes: dict[str, str | None]) -> Grid:
        """The posted lines, less the one ``remove`` names, plus the one ``add`` names when
        that button was pressed (the choice of a line to add is always posted). The grid does
        not edit notes: each line keeps the one saved with it (``notes`` by category)."""

        def text(name: str) -> str:
            return (form.get(name) or "").strip()

        removed = text("remove")
        codes = [code for code in form.getlist("line")[:MAX_LINES] if code != removed]
        lines = [
            GridLine(
                category=code,
                owner=text(f"owner-{code}"),
                amounts=[text(f"m{month}-{code}") for month in MONTHS],
                note=notes.get(code),
            )
            for code in codes
        ]
        added = text("add") if text("action") == "add" else ""
        if added and added not in codes:
            lines.append(GridLine(category=added))
        return cls(lines, reshaped=bool(added or removed))

    def arrange(self, chart: list[BudgetCategory]) -> None:
        """Lines in chart order, as ``service.lines_of`` numbers them in its refusals at
        submission; lines naming no category of the plan last."""
        order = {category.code: index for index, category in enumerate(chart)}
        self.lines.sort(key=lambda line: order.get(line.category, len(order)))

    @property
    def invalid(self) -> bool:
        return bool(self.errors) or any(line.errors for line in self.lines)

    def specs(self) -> list[dict[str, Any]]:
        """The lines as ``service.write_lines`` takes them; amounts that are not amounts are
        marked on their cells instead (check ``invalid`` before writing)."""
        specs = []
        for line in self.lines:
            amounts = {}
            for month, raw in zip(MONTHS, line.amounts, strict=True):
                parsed = parse_amount(raw, allow_zero=True) if raw else None
                if isinstance(parsed, str):
                    line.errors[str(month)] = parsed
                elif parsed is not None:
                    amounts[month] = parsed
            specs.append({"category": line.category, "amounts": amounts, "note": line.note})
            specs[-1] |= _owner_spec(line.owner)
        return specs

    def refuse(self, error: DomainError) -> None:
        """The service's refusal, each problem beside the line it names (lines are numbered
        as posted, which is also the order the grid shows them in)."""
        problems = error.errors if isinstance(error.errors, dict) else {}
        for key, detail in problems.items():
            found = _PROBLEM.fullmatch(key)
            index = int(found.group(1)) if found else len(self.lines)
            if index >= len(self.lines):
                self.errors.append(_("The plan has no amounts.") if key == "lines" else detail)
                continue
            line, what, month = self.lines[index], found.group(2), found.group(3)
            if what == "category":
                line.errors["line"] = _("this category is not a line of this plan")
            elif what == "amounts":
                line.errors[month if month in {str(m) for m in MONTHS} else "line"] = detail
            elif line.owner:
                line.errors["owner"] = _("the owner answers to no department or role here")
            else:
                line.errors["owner"] = _(
                    "choose the department or person answering for this line (R-BUD-3)"
                )
        if not self.invalid:
            self.errors.append(error.message)


def owner_value(kind: str, name: str | None) -> str:
    return f"{kind}:{name}" if name else ""


def _owner_value(line: dict[str, Any]) -> str:
    return owner_value("department", line["owner_department"]) or owner_value(
        "person", line["owner_login"]
    )


def _owner_spec(value: str) -> dict[str, str | None]:
    """The grid's owner choice as the service's two fields (anything else: no owner)."""
    kind, _colon, name = value.partition(":")
    spec: dict[str, str | None] = dict.fromkeys(OWNER_FIELDS.values())
    if kind in OWNER_FIELDS and name:
        spec[OWNER_FIELDS[kind]] = name
    return spec


# --- sums the grid shows ------------------------------------------------------------------


@dataclass
class Totals:
    """Twelve months, four quarters and the year of some saved lines."""

    amounts: list[Decimal]

    @property
    def quarters(self) -> list[Decimal]:
        return [sum(self.amounts[q * 3 : q * 3 + 3], ZERO) for q in range(4)]

    @property
    def total(self) -> Decimal:
        return sum(self.amounts, ZERO)


@dataclass
class Section:
    """A top category of the plan's chart: its lines in the grid and the sum of those saved."""

    top: BudgetCategory | None  # None: lines naming no category of this plan
    lines: list[GridLine]
    totals: Totals


def sections(
    grid: Grid, chart: list[BudgetCategory], saved: dict[str, dict[str, Any]]
) -> list[Section]:
    """The grid's lines under their top categories, in chart order, with saved sums."""
    by_id = {category.id: category for category in chart}
    by_code = {category.code: category for category in chart}
    tops = [category for category in chart if category.parent_id is None]
    grouped: dict[int | None, list[GridLine]] = {top.id: [] for top in tops}
    for line in grid.lines:
        category = by_code.get(line.category)
        grouped.setdefault(_top_id(category, by_id), []).append(line)
    found = []
    for top in [*tops, None]:
        lines = grouped.get(top.id if top else None, [])
        stored = [saved[line.category]["amounts"] for line in lines if line.category in saved]
        months = [sum((amounts[m] for amounts in stored), ZERO) for m in range(12)]
        if top is not None or lines:
            found.append(Section(top, lines, Totals(months)))
    return found


def _top_id(category: BudgetCategory | None, by_id: dict[int, BudgetCategory]) -> int | None:
    if category is None or not category.is_leaf:
        return None
    return by_id[int(category.path.strip("/").split("/")[0])].id


# --- filters of the pages -----------------------------------------------------------------


@dataclass
class Filter:
    """The year (and, for figures, version set, plan kind, last month) asked for in the query;
    a bad value is named and the default used."""

    year: int
    versions: str = "approved"
    kind: str = "profit"
    through: int = 12
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_args(cls, args, default_year: int) -> Filter:
        found = cls(default_year)
        year, through = (args.get("year") or "").strip(), (args.get("through") or "").strip()
        if year:
            if DIGITS.fullmatch(year) and FISCAL_YEARS[0] <= int(year) <= FISCAL_YEARS[1]:
                found.year = int(year)
            else:
                first, last = FISCAL_YEARS
                found.errors.append(_("A year is %(first)d to %(last)d.", first=first, last=last))
        if through:
            if DIGITS.fullmatch(through) and int(through) in MONTHS:
                found.through = int(through)
            else:
                found.errors.append(_("Choose a month from 1 to 12."))
        versions, kind = args.get("versions"), args.get("kind")
        if versions in VERSION_SETS:
            found.versions = versions
        elif versions:
            found.errors.append(_("Choose approved or latest versions."))
        if kind in PLAN_KINDS:
            found.kind = kind
        elif kind:
            found.errors.append(_("Choose a profit, fund or expense plan."))
        return found

    def query(self, **changes: Any) -> dict[str, Any]:
        """The filter as URL arguments, for links to other units and years."""
        values = {
            "year": self.year,
            "versions": self.versions,
            "kind": self.kind,
            "through": self.through,
        }
        return values | changes
