"""The client-side search index, pure: one shard a month of picked papers, as JSON in scripts.

A shard holds one compact row per paper (id, day, title, Chinese title and TL;DR, authors and
its picks), searched by substring; the titles of the topics in both languages (a pick is found
by its topic's name, `模型融合` or `model merging`); and the words of the papers' abstracts as an
inverted index (each distinct word once, with the rows that use it), searched by word prefix.
Shards are scripts rather than fetched files so that search also works from file:// pages,
and one month's shard is all a day's run rewrites.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Sequence

from paperradar.i18n import Language
from paperradar.i18n.catalog import catalog
from paperradar.profiles.profile import Profile
from paperradar.rank.lexical import STOPWORDS
from paperradar.text import latex_to_unicode
from paperradar.web.archive import PickRow

INDEX_VERSION = 3
SEARCH_FIELDS = ("id", "day", "title", "title_zh", "tldr_zh", "authors", "picks")
SEARCH_GLOBAL = "paperradarShards"
# Letters and digits of any script; search.js splits queries the same way.
_TOKEN = re.compile(r"[^\W_]+")


def shard_month(day_iso: str) -> str:
    """Return the shard (YYYY-MM) a paper belongs to, from the day of its newest pick."""
    return day_iso[:7]


def abstract_words(abstract: str, title: str) -> list[str]:
    """Return an abstract's distinct words, lower-cased, minus stopwords and the title's words.

    The title is searched whole, by substring, so its words need no place in the word index.
    """
    skip = set(_TOKEN.findall(title.lower())) | STOPWORDS
    return sorted({word for word in _TOKEN.findall(abstract.lower()) if word not in skip})


def _rows(picks: Sequence[PickRow]) -> tuple[list[list[object]], list[PickRow]]:
    """One row per paper in the order of its newest pick, and that pick of each row."""
    firsts: dict[str, PickRow] = {}
    picked: dict[str, list[list[object]]] = {}
    for pick in picks:
        firsts.setdefault(pick.paper.arxiv_id, pick)
        entry: list[object] = [pick.profile, pick.topic, pick.day.isoformat(), pick.percent]
        picked.setdefault(pick.paper.arxiv_id, []).append(entry)
    rows: list[list[object]] = []
    for paper_id, pick in firsts.items():
        summary = pick.summary
        rows.append(
            [
                paper_id,
                pick.day.isoformat(),
                latex_to_unicode(pick.paper.title),
                latex_to_unicode(summary.title_zh or "") if summary else "",
                latex_to_unicode(summary.tldr_zh or "") if summary else "",
                ", ".join(pick.paper.authors),
                picked[paper_id],
            ]
        )
    return rows, list(firsts.values())


def _postings(papers: Sequence[PickRow]) -> tuple[list[str], list[list[int]]]:
    """Each abstract word (sorted) with its rows, delta-encoded: [first, gap, gap, ...]."""
    rows_of: dict[str, list[int]] = {}
    for row, pick in enumerate(papers):
        for word in abstract_words(pick.paper.abstract, pick.paper.title):
            rows_of.setdefault(word, []).append(row)
    words = sorted(rows_of)
    postings = []
    for word in words:
        rows = rows_of[word]
        postings.append([rows[0], *(after - before for before, after in itertools.pairwise(rows))])
    return words, postings


def search_shard(picks: Sequence[PickRow], profiles: Sequence[Profile]) -> dict[str, object]:
    """Build one shard from the picks of its papers (newest first)."""
    rows, papers = _rows(picks)
    words, postings = _postings(papers)
    return {
        "version": INDEX_VERSION,
        "fields": list(SEARCH_FIELDS),
        # Each topic's [English title, Chinese title or ""], searched with its picks.
        "topics": {
            profile.name: {
                key: [topic.title, topic.title_zh or ""] for key, topic in profile.topics.items()
            }
            for profile in profiles
        },
        # Query words the word index leaves out; search.js ignores them.
        "ignored": sorted(STOPWORDS),
        "rows": rows,
        "words": words,
        "postings": postings,
    }


def search_script(shard: dict[str, object]) -> bytes:
    """Serialise a shard as a one-statement script that appends it to a global list."""
    data = json.dumps(shard, ensure_ascii=False, separators=(",", ":"))
    return f"(window.{SEARCH_GLOBAL}=window.{SEARCH_GLOBAL}||[]).push({data});\n".encode()


# The words search.js shows, with their plural forms and `{count}`/`{query}` left to fill in.
SEARCH_WORDS = ("total", "found", "first_shown", "empty", "empty_hint")


def search_words(language: Language) -> str:
    """The search script's words in a language, as JSON for the page's `data-words`."""
    texts = {name: catalog()[f"web.search.{name}"][language] for name in SEARCH_WORDS}
    return json.dumps(texts, ensure_ascii=False, separators=(",", ":"))
