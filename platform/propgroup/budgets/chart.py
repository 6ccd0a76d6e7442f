"""The variance chart of a unit (R-BUD-5): plan and actual of each budget line as a pair of bars,
the plan marked across the actual bar so the variance is the gap, drawn as SVG on the server.

Only the geometry is here; ``budgets/_chart.html`` draws it. Coordinates are Decimals, like the
amounts they stand for: no float ever holds a figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

WIDTH, HEIGHT = Decimal(760), Decimal(360)
LEFT, RIGHT, TOP, BOTTOM = Decimal(100), Decimal(16), Decimal(64), Decimal(100)
TICKS = 4  # about this many steps up the value axis
PIXEL = Decimal("0.1")
ZERO = Decimal(0)


@dataclass(frozen=True)
class Bar:
    series: str  # "plan" or "actual"
    value: Decimal
    x: Decimal
    y: Decimal
    width: Decimal
    height: Decimal


@dataclass(frozen=True)
class Group:
    """One budget line: its two bars, the plan's level across the actual bar, the variance."""

    code: str
    label: str
    plan: Bar
    actual: Bar
    variance: Decimal
    adverse: bool  # spending over plan, or income under it
    marker_y: Decimal
    center: Decimal


@dataclass(frozen=True)
class Tick:
    value: Decimal
    y: Decimal

    @property
    def label(self) -> str:
        places = 0 if self.value == self.value.to_integral() else 2
        return f"{self.value:,.{places}f}"


@dataclass(frozen=True)
class Chart:
    groups: list[Group]
    ticks: list[Tick]
    baseline: Decimal  # the y of 0
    width: Decimal = WIDTH
    height: Decimal = HEIGHT
    left: Decimal = LEFT
    right: Decimal = WIDTH - RIGHT
    top: Decimal = TOP
    bottom: Decimal = HEIGHT - BOTTOM


@dataclass(frozen=True)
class Line:
    """What the chart is asked to show of one budget line."""

    code: str
    label: str
    side: str  # "income" or "expense"
    plan: Decimal
    actual: Decimal


def variance_chart(lines: Sequence[Line]) -> Chart:
    low, high, step = _scale([value for line in lines for value in (line.plan, line.actual)])
    plot_height = HEIGHT - BOTTOM - TOP

    def y(value: Decimal) -> Decimal:
        return (TOP + (high - value) / (high - low) * plot_height).quantize(PIXEL)

    baseline = y(ZERO)
    slot = (WIDTH - RIGHT - LEFT) / max(len(lines), 1)
    bar_width = (slot * Decimal("0.3")).quantize(PIXEL)

    def bar(series: str, value: Decimal, x: Decimal) -> Bar:
        top = y(value)  # under the baseline for a negative value: the bar hangs from 0
        height = abs(top - baseline)
        return Bar(series, value, x.quantize(PIXEL), min(top, baseline), bar_width, height)

    groups = []
    for index, line in enumerate(lines):
        start = LEFT + slot * index + slot * Decimal("0.17")
        actual_x = start + bar_width + slot * Decimal("0.06")
        variance = line.actual - line.plan
        groups.append(
            Group(
                code=line.code,
                label=line.label,
                plan=bar("plan", line.plan, start),
                actual=bar("actual", line.actual, actual_x),
                variance=variance,
                adverse=variance > 0 if line.side == "expense" else variance < 0,
                marker_y=y(line.plan),
                center=(LEFT + slot * index + slot / 2).quantize(PIXEL),
            )
        )
    ticks = []
    value = low
    while value <= high:
        ticks.append(Tick(value, y(value)))
        value += step
    return Chart(groups, ticks, baseline)


def _scale(values: list[Decimal]) -> tuple[Decimal, Decimal, Decimal]:
    """The axis's ends (0 always inside) and a round step between its ticks."""
    low, high = min([ZERO, *values]), max([ZERO, *values])
    rough = ((high - low) or Decimal(1)) / TICKS
    magnitude = Decimal(1).scaleb(rough.adjusted())
    step = next(m * magnitude for m in (1, 2, Decimal("2.5"), 5, 10) if m * magnitude >= rough)
    low = step * (low / step).to_integral_value(ROUND_FLOOR)
    high = step * (high / step).to_integral_value(ROUND_CEILING)
    return low, high if high > low else low + step * TICKS, step  # nothing yet: an empty axis
