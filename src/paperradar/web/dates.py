"""Dates in the reader's language (the web catalog's Babel patterns) and the calendar's months."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from babel.dates import format_date

from paperradar.i18n import Words
from paperradar.i18n.words import LOCALES
from paperradar.web.archive import DayEntry


def formatted(t: Words, day: date, pattern_key: str) -> str:
    """Format a day with the catalog's pattern: `web.chart.month_pattern` gives `10月` / `Oct`."""
    return format_date(day, t(pattern_key), locale=LOCALES[t.language])


@dataclass(frozen=True)
class CalendarMonth:
    """One month of the calendar: weeks of days (None outside the month), newest month first."""

    label: str
    weeks: tuple[tuple[date | None, ...], ...]


def month_label(t: Words, month: str) -> str:
    """A month (YYYY-MM) as the reader writes it: `2025年10月` / `October 2025`."""
    return formatted(t, date.fromisoformat(f"{month}-01"), "web.calendar.month_pattern")


def calendar_months(entries: Sequence[DayEntry], t: Words) -> list[CalendarMonth]:
    """Lay out the digest days as month grids, Monday first, newest month first."""
    months = sorted({(entry.day.year, entry.day.month) for entry in entries}, reverse=True)
    grid = calendar.Calendar(firstweekday=0)
    return [
        CalendarMonth(
            label=month_label(t, f"{year}-{month:02d}"),
            weeks=tuple(
                tuple(day if day.month == month else None for day in week)
                for week in grid.monthdatescalendar(year, month)
            ),
        )
        for year, month in months
    ]
