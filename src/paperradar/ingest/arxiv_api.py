"""The arXiv API through the `arxiv` package: look-ups by id (seed papers) and range backfill."""

from __future__ import annotations

import dataclasses
import itertools
import logging
import re
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import arxiv
import requests
from sqlalchemy import Engine

from paperradar.errors import FeedError, SourceUnavailableError
from paperradar.ingest.announcement import Announcement
from paperradar.ingest.feeds import collapse, split_id
from paperradar.ingest.papers import store_day
from paperradar.reports import StageReport
from paperradar.settings import ArxivSettings
from paperradar.store.db import session_scope
from paperradar.store.states import AnnounceType

logger = logging.getLogger(__name__)

# Ids per request: keeps the id_list query string far below URL length limits.
LOOKUP_CHUNK = 100
ONE_DAY = timedelta(days=1)
_VALID_ID = re.compile(r"^(\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?/\d{7})(v\d+)?$")


def build_client(settings: ArxivSettings) -> arxiv.Client:
    """Return an `arxiv.Client` on the configured endpoint with its own delay and retries."""
    client = arxiv.Client(
        page_size=settings.api_page_size,
        delay_seconds=settings.api_delay_seconds,
        num_retries=settings.api_num_retries,
    )
    client.query_url_format = f"{settings.api_url}?{{}}"
    return client


def announcement_from_result(result: arxiv.Result) -> Announcement:
    """Convert an API result; announced on its v1 date, `new` if it is v1 else `replace`."""
    if "/api/errors" in result.entry_id:
        raise FeedError(f"arXiv API error: {collapse(result.summary or result.entry_id)}")
    arxiv_id, version = split_id(result.entry_id, where="arXiv API")
    title, abstract = collapse(result.title or ""), collapse(result.summary or "")
    if not title:
        raise FeedError(f"arXiv API: {result.entry_id} has no title")
    return Announcement(
        arxiv_id=arxiv_id,
        version=version,
        title=title,
        abstract=abstract,
        authors=tuple(author.name for author in result.authors),
        categories=tuple(
            c for c in dict.fromkeys([result.primary_category, *result.categories]) if c
        ),
        announce_type=AnnounceType.NEW if version == 1 else AnnounceType.REPLACE,
        announced_on=result.published.date(),
        comment=collapse(result.comment) if result.comment else None,
        doi=result.doi or None,
        journal_ref=collapse(result.journal_ref) if result.journal_ref else None,
        affiliations=tuple(
            dict.fromkeys(
                collapse(name)
                for author in result.authors
                for name in author.affiliation
                if name.strip()
            )
        ),
    )


@contextmanager
def _arxiv_errors(settings: ArxivSettings) -> Iterator[None]:
    """Turn the `arxiv` client's errors, raised after its own retries, into ours."""
    retries = settings.api_num_retries
    try:
        yield
    except arxiv.HTTPError as error:
        if 400 <= error.status < 500 and error.status != 429:
            raise FeedError(
                f"the arXiv API rejected the request (HTTP {error.status}): {error.url}"
            ) from error
        raise SourceUnavailableError(
            f"the arXiv API answered HTTP {error.status} after {retries} retries: {error.url}; "
            "try again later"
        ) from error
    except arxiv.UnexpectedEmptyPageError as error:
        raise SourceUnavailableError(
            f"the arXiv API returned an empty page after {retries} retries: {error.url}; "
            "try again later"
        ) from error
    except (arxiv.ArxivError, requests.RequestException) as error:
        raise SourceUnavailableError(f"the arXiv API is unreachable: {error}") from error


def _checked_ids(ids: Iterable[str]) -> list[str]:
    unique = list(dict.fromkeys(arxiv_id.strip() for arxiv_id in ids))
    invalid = [arxiv_id for arxiv_id in unique if not _VALID_ID.match(arxiv_id)]
    if invalid:
        raise FeedError(f"not arXiv ids: {', '.join(invalid)} (e.g. 2505.17667 or hep-th/9901001)")
    return unique


def lookup(settings: ArxivSettings, ids: Iterable[str]) -> list[Announcement]:
    """Look papers up by id; ids arXiv does not know are simply absent from the result."""
    unique = _checked_ids(ids)
    client = build_client(settings)
    found: list[Announcement] = []
    with _arxiv_errors(settings):
        for start in range(0, len(unique), LOOKUP_CHUNK):
            chunk = unique[start : start + LOOKUP_CHUNK]
            search = arxiv.Search(id_list=chunk, max_results=len(chunk))
            found.extend(announcement_from_result(result) for result in client.results(search))
    logger.info("arXiv API: %d of %d id(s) found", len(found), len(unique))
    return found


def range_query(categories: Iterable[str], start: date, end: date) -> str:
    """Return the API query for papers of the categories submitted from start to end."""
    any_category = " OR ".join(f"cat:{category}" for category in categories)
    return f"({any_category}) AND {_submitted(start, end)}"


def _submitted(start: date, end: date) -> str:
    return f"submittedDate:[{start:%Y%m%d}0000 TO {end:%Y%m%d}2359]"


def _results(settings: ArxivSettings, search: arxiv.Search) -> Iterator[Announcement]:
    """Run a search through the configured client (its delay and retries), as announcements."""
    client = build_client(settings)
    with _arxiv_errors(settings):
        for result in client.results(search):
            yield announcement_from_result(result)


def search_range(settings: ArxivSettings, start: date, end: date) -> Iterator[Announcement]:
    """Yield the categories' papers submitted from start to end, oldest first."""
    search = arxiv.Search(
        query=range_query(settings.categories, start, end),
        max_results=None,
        sort_by=arxiv.SortCriterion.SubmittedDate,
        sort_order=arxiv.SortOrder.Ascending,
    )
    yield from _results(settings, search)


def author_query(name: str, since: date, until: date) -> str:
    """Return the API query for a name's (or an `au:` query's) papers submitted from `since`
    to `until`."""
    words = name.replace('"', " ").strip()
    author = words if words.lower().startswith("au:") else f'au:"{words}"'
    return f"{author} AND {_submitted(since, until)}"


def search_author(
    settings: ArxivSettings, name: str, since: date, until: date, *, limit: int
) -> Iterator[Announcement]:
    """Yield up to `limit` papers listing the name, newest first (the client's delay and
    retries, as every API request)."""
    search = arxiv.Search(
        query=author_query(name, since, until),
        max_results=limit,
        sort_by=arxiv.SortCriterion.SubmittedDate,
        sort_order=arxiv.SortOrder.Descending,
    )
    yield from _results(settings, search)


def _as_candidate(announcement: Announcement, home: Collection[str]) -> Announcement:
    # A backfilled paper was new on its submission day whatever its version is today.
    is_home = bool(announcement.categories) and announcement.categories[0] in home
    kind = AnnounceType.NEW if is_home else AnnounceType.CROSS
    return dataclasses.replace(announcement, announce_type=kind)


def _store_day(engine: Engine, day: date, announcements: list[Announcement]) -> StageReport:
    with session_scope(engine) as session:
        return store_day(session, day, announcements, source="api", raw_path=None)


def backfill(engine: Engine, settings: ArxivSettings, start: date, end: date) -> list[StageReport]:
    """Store the papers submitted from start to end as each day's candidates, day by day.

    Results arrive oldest first, so each day is committed as soon as it is complete. Every day
    in the range gets a FeedDay(source="api") row unless the RSS feed already recorded it. Days
    are dated by submission (the API's `published`), not by arXiv's announcement.
    """
    if end < start:
        raise FeedError(f"backfill range ends ({end}) before it starts ({start})")
    papers = (_as_candidate(a, settings.categories) for a in search_range(settings, start, end))
    reports: list[StageReport] = []
    next_day = start
    for day, group in itertools.groupby(papers, key=lambda announcement: announcement.announced_on):
        if not start <= day <= end:
            logger.warning("backfill: skipping papers dated %s, outside %s..%s", day, start, end)
            continue
        for empty_day in _days(next_day, day - ONE_DAY):
            reports.append(_store_day(engine, empty_day, []))
        reports.append(_store_day(engine, day, list(group)))
        next_day = max(next_day, day + ONE_DAY)
    reports.extend(_store_day(engine, empty_day, []) for empty_day in _days(next_day, end))
    return reports


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += ONE_DAY
