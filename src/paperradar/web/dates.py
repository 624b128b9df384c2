"""Dates in the reader's language, by the Babel patterns of the web catalog (`web.*_pattern`)."""

from __future__ import annotations

from datetime import date

from babel.dates import format_date

from paperradar.i18n import Words
from paperradar.i18n.words import LOCALES


def formatted(t: Words, day: date, pattern_key: str) -> str:
    """Format a day with the catalog's pattern: `web.chart.month_pattern` gives `10月` / `Oct`."""
    return format_date(day, t(pattern_key), locale=LOCALES[t.language])
