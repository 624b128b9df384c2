"""A topic's trend chart, pure: picks per digest day on a time axis, and its values by month."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from paperradar.i18n import Words
from paperradar.web.dates import formatted

# The plot's height in CSS pixels; its width is the page's, so x is a share of it (0-1).
PLOT_HEIGHT = 140
# Room above the tallest bar for its value, and below the plot for the date labels.
PLOT_TOP, AXIS_HEIGHT = 16, 22
# A digest more than this many days after the one before breaks the relevance line.
LINE_GAP_DAYS = 7
# A bar's width, at most, as a share of the plot: two days are two bars, not two slabs.
MAX_BAR_WIDTH = 0.06
# Values are written on the bars when adjacent bars are at least this far apart (≈18 px on
# a phone's 300 px plot); closer bars leave their values to the table by month.
LABEL_SPACING = 0.06
MAX_TICKS = 6
# Ticks near an edge are anchored inside the plot rather than centred on their day.
EDGE = 0.1
# Day ticks up to this span of days; month ticks beyond it.
DAY_TICKS_UP_TO = 45


@dataclass(frozen=True)
class TrendPoint:
    """One digest day of a topic: how many picks, and the best relevance any paper reached."""

    day: date
    picks: int
    top_percent: int | None


@dataclass(frozen=True)
class Bar:
    """One day's bar: left edge and width as shares of the plot's width, height as a share of
    its height, with the day's count and its description."""

    x: float
    width: float
    height: float
    value: int
    title: str


@dataclass(frozen=True)
class Tick:
    """A date label on the time axis, at a share of the plot's width, anchored start/middle/end."""

    x: float
    label: str
    anchor: str


@dataclass(frozen=True)
class MonthFigures:
    """A month's row of the table under a chart: the values without hovering."""

    label: str
    days: int
    picks: int
    top_percent: int | None


@dataclass(frozen=True)
class Chart:
    """A topic's trend on a time axis: bars of picks per day, the day's top relevance (0-100 %).

    x is a share of the plot's width (the day's place between the first and the last digest
    day), y a share of its height from the bottom; the template turns them into percentages
    and pixels, so bars stretch with the page while labels keep their size.
    """

    max_picks: int
    bars: tuple[Bar, ...]
    # The relevance line's segments, ((x1, y1), (x2, y2)); a day without matches or a long
    # gap between digests breaks it.
    segments: tuple[tuple[tuple[float, float], tuple[float, float]], ...]
    # The line's points, drawn as dots so that a lone day shows too.
    dots: tuple[tuple[float, float], ...]
    ticks: tuple[Tick, ...]
    # Whether the bars are far enough apart to carry their values.
    bar_labels: bool
    months: tuple[MonthFigures, ...]
    description: str
    plot_height: int = PLOT_HEIGHT
    plot_top: int = PLOT_TOP
    axis_height: int = AXIS_HEIGHT


def _anchor(x: float) -> str:
    return "start" if x < EDGE else "end" if x > 1 - EDGE else "middle"


def _thinned(ticks: list[Tick]) -> tuple[Tick, ...]:
    step = math.ceil(len(ticks) / MAX_TICKS)
    return tuple(ticks[::step])


def _ticks(first: date, last: date, slot: float, t: Words) -> tuple[Tick, ...]:
    """Day labels over a short span, month labels (the year on the first and on January)."""
    span = (last - first).days
    if span <= DAY_TICKS_UP_TO:
        days = [first + timedelta(days=offset) for offset in range(span + 1)]
        if span > 0:
            # Spread over the span, always with its first and last day.
            step = math.ceil(span / (MAX_TICKS - 1))
            days = [*days[:-1:step], last]
        ticks = []
        for day in days:
            x = ((day - first).days + 0.5) * slot
            ticks.append(Tick(x, formatted(t, day, "web.chart.day_pattern"), _anchor(x)))
        return tuple(ticks)
    months: list[Tick] = []
    month = date(first.year, first.month, 1)
    while month <= last:
        x = max((month - first).days, 0) * slot
        pattern = "web.chart.year_month_pattern" if not months or month.month == 1 else None
        label = formatted(t, month, pattern or "web.chart.month_pattern")
        months.append(Tick(x, label, "start" if x < EDGE else _anchor(x)))
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return _thinned(months)


def _month_figures(points: Sequence[TrendPoint], t: Words) -> tuple[MonthFigures, ...]:
    by_month: dict[date, list[TrendPoint]] = {}
    for point in points:
        by_month.setdefault(point.day.replace(day=1), []).append(point)
    return tuple(
        MonthFigures(
            formatted(t, month, "web.chart.year_month_pattern"),
            len(days),
            sum(point.picks for point in days),
            max((p.top_percent for p in days if p.top_percent is not None), default=None),
        )
        for month, days in by_month.items()
    )


def _segments(
    points: Sequence[TrendPoint], positions: Sequence[tuple[float, float] | None]
) -> tuple[tuple[tuple[float, float], tuple[float, float]], ...]:
    pairs = zip(itertools.pairwise(points), itertools.pairwise(positions), strict=True)
    return tuple(
        (start, end)
        for (before, after), (start, end) in pairs
        if start is not None and end is not None and (after.day - before.day).days <= LINE_GAP_DAYS
    )


def _bar_title(point: TrendPoint, t: Words) -> str:
    day = t.day(point.day, year=True)
    if point.top_percent is None:
        return t("web.chart.bar", day=day, count=point.picks)
    return t("web.chart.bar_top", day=day, count=point.picks, percent=point.top_percent)


def trend_chart(points: Sequence[TrendPoint], t: Words) -> Chart:
    """Lay out a topic's trend over its digest days (oldest first) on a time axis.

    Each calendar day from the first digest day to the last has a slot of the plot's width,
    so days without a digest (weekends, a five-month pause) are gaps, not adjacent bars.
    """
    if not points:
        return Chart(1, (), (), (), (), False, (), t("web.chart.description", count=0, days=0))
    first, last = points[0].day, points[-1].day
    slot = 1 / ((last - first).days + 1)
    width = min(slot * 0.7, MAX_BAR_WIDTH)
    max_picks = max(point.picks for point in points) or 1
    centers = [((point.day - first).days + 0.5) * slot for point in points]
    bars = tuple(
        Bar(center - width / 2, width, point.picks / max_picks, point.picks, _bar_title(point, t))
        for point, center in zip(points, centers, strict=True)
    )
    positions = [
        None if point.top_percent is None else (center, point.top_percent / 100)
        for point, center in zip(points, centers, strict=True)
    ]
    spacing = min((b - a for a, b in itertools.pairwise(centers)), default=1.0)
    total = sum(point.picks for point in points)
    return Chart(
        max_picks=max_picks,
        bars=bars,
        segments=_segments(points, positions),
        dots=tuple(position for position in positions if position is not None),
        ticks=_ticks(first, last, slot, t),
        bar_labels=spacing >= LABEL_SPACING,
        months=_month_figures(points, t),
        description=t("web.chart.description", count=total, days=len(points)),
    )
