"""Trends, pure: SVG chart geometry of a topic's picks per day, and keywords of recent picks."""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from paperradar.profiles.profile import Profile
from paperradar.rank.lexical import STOPWORDS, stem
from paperradar.web.archive import Archive

CHART_WIDTH = 720
CHART_HEIGHT = 160
# Room for the picks axis on the left, the percent axis on the right and month labels below.
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 30, 40, 10, 22
KEYWORD_LIMIT = 20
MAX_SLOT = 24
PHRASE_SHARE = 0.6
_WORD = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")


@dataclass(frozen=True)
class TrendPoint:
    """One digest day of a topic: how many picks, and the best relevance any paper reached."""

    day: date
    picks: int
    top_percent: int | None


@dataclass(frozen=True)
class Bar:
    """One day's bar, in SVG user units, with its tooltip."""

    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass(frozen=True)
class Tick:
    """A month label on the day axis."""

    x: float
    label: str


@dataclass(frozen=True)
class Chart:
    """An SVG chart: bars of picks per day, a line of the day's top relevance (0-100 %)."""

    width: int
    height: int
    left: float
    top: float
    right: float
    bottom: float
    max_picks: int
    bars: tuple[Bar, ...]
    # Polyline point lists; a day without matches breaks the line.
    lines: tuple[str, ...]
    # The line's points, (x, y), drawn as dots so that a lone day shows too.
    dots: tuple[tuple[float, float], ...]
    ticks: tuple[Tick, ...]
    description: str


@dataclass(frozen=True)
class Keyword:
    """A term of recent pick titles and how many picks used it."""

    term: str
    count: int


def _relevance_points(
    points: Sequence[TrendPoint], centers: Sequence[float], top: float, span: float
) -> list[tuple[float, float] | None]:
    return [
        None if point.top_percent is None else (x, top + span * (1 - point.top_percent / 100))
        for point, x in zip(points, centers, strict=True)
    ]


def _line_segments(positions: Sequence[tuple[float, float] | None]) -> tuple[str, ...]:
    segments: list[list[str]] = [[]]
    for position in positions:
        if position is None:
            segments.append([])
        else:
            segments[-1].append(f"{position[0]:.1f},{position[1]:.1f}")
    return tuple(" ".join(segment) for segment in segments if len(segment) > 1)


def trend_chart(points: Sequence[TrendPoint]) -> Chart:
    """Lay out a topic's trend over its digest days (oldest first) as SVG geometry."""
    left, right = MARGIN_LEFT, CHART_WIDTH - MARGIN_RIGHT
    top, bottom = MARGIN_TOP, CHART_HEIGHT - MARGIN_BOTTOM
    # Few days get bars of a readable width, not one bar across the whole chart.
    slot = min((right - left) / max(len(points), 1), MAX_SLOT)
    max_picks = max((point.picks for point in points), default=0) or 1
    bars: list[Bar] = []
    centers: list[float] = []
    ticks: list[Tick] = []
    month = None
    for index, point in enumerate(points):
        x = left + index * slot
        centers.append(x + slot / 2)
        height = (bottom - top) * point.picks / max_picks
        best = f", top {point.top_percent}%" if point.top_percent is not None else ""
        title = (
            f"{point.day.isoformat()}: {point.picks} pick{'s' if point.picks != 1 else ''}{best}"
        )
        bars.append(Bar(x + slot * 0.1, bottom - height, max(slot * 0.8, 0.5), height, title))
        if (point.day.year, point.day.month) != month:
            month = (point.day.year, point.day.month)
            ticks.append(
                Tick(x, point.day.strftime("%Y-%m" if point.day.month == 1 or not ticks else "%b"))
            )
    total = sum(point.picks for point in points)
    positions = _relevance_points(points, centers, top, bottom - top)
    return Chart(
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        max_picks=max_picks,
        bars=tuple(bars),
        lines=_line_segments(positions),
        dots=tuple(position for position in positions if position is not None),
        ticks=tuple(ticks),
        description=f"{total} picks over {len(points)} digest days",
    )


def _terms(title: str) -> set[tuple[str, ...]]:
    words = _WORD.findall(title.lower())
    kept = [
        word if word not in STOPWORDS and not word.isdigit() and len(word) > 2 else None
        for word in words
    ]
    terms: set[tuple[str, ...]] = {(word,) for word in kept if word}
    terms.update((first, second) for first, second in itertools.pairwise(kept) if first and second)
    return terms


def _key(term: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(stem(word) for word in term)


@dataclass(frozen=True)
class TermCounts:
    """How many titles of a period use each term (keyed by its stemmed words)."""

    titles: int
    counts: Counter[tuple[str, ...]]


def count_terms(titles: Iterable[str]) -> TermCounts:
    """Count, once per title, the terms of every title of a period."""
    counts: Counter[tuple[str, ...]] = Counter()
    total = 0
    for title in titles:
        total += 1
        counts.update({_key(term) for term in _terms(title)})
    return TermCounts(total, counts)


def top_keywords(
    titles: Iterable[str], background: TermCounts, *, limit: int = KEYWORD_LIMIT
) -> list[Keyword]:
    """Return the terms most used by the picks' titles, weighted by how rare they are overall.

    A term is a word or two adjacent words (stopwords dropped; plural and -ing forms counted
    together) counted once per title; a term most papers use ("language models") is weighed
    down by how many titles of the period (`background`) use it.
    """
    counts: Counter[tuple[str, ...]] = Counter()
    forms: dict[tuple[str, ...], Counter[str]] = {}
    for title in titles:
        for term in _terms(title):
            key = _key(term)
            counts[key] += 1
            forms.setdefault(key, Counter())[" ".join(term)] += 1
    weight = {
        key: count * math.log((background.titles + 2) / (background.counts[key] + 1))
        for key, count in counts.items()
        if count > 1
    }
    # A word that mostly comes within one phrase ("merging" in "model merging") is left to it.
    covered = {
        (word,)
        for key in weight
        if len(key) == 2
        for word in key
        if counts[key] >= PHRASE_SHARE * counts[(word,)]
    }
    ranked = sorted(weight.keys() - covered, key=lambda key: (-weight[key], key))
    chosen = ranked[:limit]
    return [Keyword(forms[key].most_common(1)[0][0], counts[key]) for key in chosen]


@dataclass(frozen=True)
class ProfileTrends:
    """A profile's trend charts and keywords, per topic and overall."""

    charts: dict[str, Chart]
    keywords: dict[str, list[Keyword]]
    overall: list[Keyword]


def profile_trends(archive: Archive, profile: Profile, background: TermCounts) -> ProfileTrends:
    """Chart each topic of a profile over its digest days and list the recent keywords."""
    picks = [pick for pick in archive.picks if pick.profile == profile.name]
    per_day = Counter((pick.topic, pick.day) for pick in picks)
    recent = [pick for pick in picks if pick.day >= archive.keywords_since]
    charts, keywords = {}, {}
    for key in profile.topics:
        points = [
            TrendPoint(
                entry.day,
                per_day[key, entry.day],
                archive.top_percent.get((profile.name, key, entry.day)),
            )
            for entry in archive.days.get(profile.name, ())
        ]
        charts[key] = trend_chart(points)
        titles = (pick.paper.title for pick in recent if pick.topic == key)
        keywords[key] = top_keywords(titles, background)
    overall = top_keywords((pick.paper.title for pick in recent), background)
    return ProfileTrends(charts, keywords, overall)
