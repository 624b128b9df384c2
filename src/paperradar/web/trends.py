"""Trends, pure: each topic's chart of picks per day, and the keywords of recent picks."""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from paperradar.i18n import Words
from paperradar.profiles.profile import Profile
from paperradar.rank.lexical import STOPWORDS, stem
from paperradar.web.archive import Archive
from paperradar.web.chart import Chart, TrendPoint, trend_chart

KEYWORD_LIMIT = 20
PHRASE_SHARE = 0.6
_WORD = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")


@dataclass(frozen=True)
class Keyword:
    """A term of recent pick titles and how many picks used it."""

    term: str
    count: int


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


def profile_trends(
    archive: Archive, profile: Profile, background: TermCounts, t: Words
) -> ProfileTrends:
    """Chart each topic of a profile over its digest days (in `t`'s words), list its keywords."""
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
        charts[key] = trend_chart(points, t)
        titles = (pick.paper.title for pick in recent if pick.topic == key)
        keywords[key] = top_keywords(titles, background)
    overall = top_keywords((pick.paper.title for pick in recent), background)
    return ProfileTrends(charts, keywords, overall)
