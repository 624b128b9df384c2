"""The fetch stage: read a day's announcements from arXiv RSS or a saved file; keep raw bytes."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import requests
from requests.adapters import HTTPAdapter
from sqlalchemy import Engine
from urllib3.util.retry import Retry

from paperradar import __version__
from paperradar.errors import FeedError, SourceUnavailableError
from paperradar.ingest.announcement import Announcement, Feed
from paperradar.ingest.feeds import parse_feed
from paperradar.ingest.papers import store_day
from paperradar.ingest.raw import MAX_FEED_BYTES, in_words
from paperradar.reports import StageReport
from paperradar.settings import ArxivSettings, Settings
from paperradar.store.db import session_scope
from paperradar.store.files import write_atomic
from paperradar.store.records import FeedDay
from paperradar.store.states import DayStatus

logger = logging.getLogger(__name__)

USER_AGENT = f"PaperRadar/{__version__} (daily arXiv triage)"
# arXiv's day starts in New York: its listings and RSS pubDates are dated there.
ARXIV_TIMEZONE = "America/New_York"
RETRY_STATUSES = (429, 500, 502, 503, 504)
CHUNK_BYTES = 1024 * 1024


def today_in_new_york() -> date:
    """Return today's date where arXiv dates its announcements."""
    return datetime.now(ZoneInfo(ARXIV_TIMEZONE)).date()


def rss_url(settings: ArxivSettings) -> str:
    """Return the combined RSS feed URL of the configured categories."""
    return settings.rss_url.format(categories="+".join(settings.categories))


def _rss_name(settings: ArxivSettings) -> str:
    return f"rss-{'+'.join(settings.categories)}.xml"


def raw_path(settings: Settings, day: date, name: str) -> Path:
    """Return where a day's raw feed bytes are kept."""
    return settings.data_dir / "raw" / day.isoformat() / name


def too_big(where: str, limit: int) -> FeedError:
    """The error for a feed over the size limit, naming the limit and where the feed is."""
    return FeedError(
        f"{where} holds more than {in_words(limit)}, the limit of a feed "
        "(paperradar.ingest.raw.MAX_FEED_BYTES)"
    )


def read_capped(path: Path, *, limit: int = MAX_FEED_BYTES) -> bytes:
    """Read a feed file, refusing one over `limit` bytes before reading it all."""
    try:
        with path.open("rb") as stream:
            if path.stat().st_size > limit:
                raise too_big(str(path), limit)
            data = stream.read(limit + 1)  # a pipe or a growing file has no size to trust
    except OSError as error:
        raise FeedError(f"cannot read feed file {path}: {error} (arxiv.feed_file)") from error
    if len(data) > limit:
        raise too_big(str(path), limit)
    return data


def _body(response: requests.Response, url: str, limit: int) -> bytes:
    """Read a streamed response body, stopping once it passes `limit` bytes."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_big(url, limit)
    body = bytearray()
    try:
        for chunk in response.iter_content(CHUNK_BYTES):
            body += chunk
            if len(body) > limit:
                raise too_big(url, limit)
    except requests.RequestException as error:
        raise SourceUnavailableError(f"cannot download {url}: {error}") from error
    return bytes(body)


def download(url: str, settings: ArxivSettings, *, limit: int = MAX_FEED_BYTES) -> bytes:
    """GET a URL with urllib3's retries on 429/5xx (honouring Retry-After); return the body.

    The body is streamed and refused past `limit` bytes (inflated, if it was sent gzipped).
    """
    retry = Retry(
        total=settings.rss_num_retries,
        backoff_factor=settings.rss_backoff_seconds,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    with requests.Session() as session:
        session.mount("http://", HTTPAdapter(max_retries=retry))
        session.mount("https://", HTTPAdapter(max_retries=retry))
        try:
            response = session.get(
                url,
                timeout=settings.timeout_seconds,
                headers={"User-Agent": USER_AGENT},
                stream=True,
            )
        except requests.RequestException as error:
            raise SourceUnavailableError(f"cannot download {url}: {error}") from error
        with response:
            if not response.ok:
                raise SourceUnavailableError(
                    f"{url} answered HTTP {response.status_code} "
                    f"after {settings.rss_num_retries} retries; try again later"
                )
            return _body(response, url, limit)


def _parse_or_reject(data: bytes, settings: Settings, name: str, source: str) -> Feed:
    """Parse downloaded bytes; keep malformed ones under raw/rejected/ for replay."""
    try:
        return parse_feed(data, source=source, home_categories=settings.arxiv.categories)
    except FeedError as error:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        rejected = settings.data_dir / "raw" / "rejected" / f"{stamp}-{name}"
        write_atomic(rejected, data)
        raise FeedError(f"{error} (raw bytes kept in {rejected})") from error


def _download_rss(settings: Settings) -> tuple[Feed, Path | None]:
    """Download the RSS feed and keep its bytes under the day it announces."""
    url, name = rss_url(settings.arxiv), _rss_name(settings.arxiv)
    data = download(url, settings.arxiv)
    feed = _parse_or_reject(data, settings, name, source=url)
    if feed.announced_on is None:
        return feed, None  # undated and empty: nothing to key it by
    path = raw_path(settings, feed.announced_on, name)
    write_atomic(path, data)
    logger.info("fetch: saved the RSS feed of %s to %s", feed.announced_on, path)
    return feed, path


def _read_file(path: Path, settings: ArxivSettings) -> Feed:
    data = read_capped(path)
    return parse_feed(data, source=str(path), home_categories=settings.categories)


def _rss_day(settings: Settings, day: date) -> tuple[Feed, Path | None]:
    path = raw_path(settings, day, _rss_name(settings.arxiv))
    if path.is_file():
        logger.info("fetch: reusing %s", path)
        return parse_feed(
            read_capped(path), source=str(path), home_categories=settings.arxiv.categories
        ), path
    feed, saved = _download_rss(settings)
    held = feed.announced_on or today_in_new_york()
    if held != day:
        hint = (
            f"arXiv has not announced {day} yet"
            if held < day
            else "the RSS feed only carries arXiv's latest announcement"
        )
        raise FeedError(
            f"the arXiv RSS feed holds the announcement of {held}, not {day}: {hint}; "
            "use `paperradar backfill` for past days"
        )
    return feed, saved


def _day_announcements(settings: Settings, day: date) -> tuple[list[Announcement], str, str | None]:
    """Return the day's announcements, the source's name, and where the raw bytes are."""
    feed_file = settings.arxiv.feed_file
    if feed_file is not None:
        feed = _read_file(feed_file, settings.arxiv)
        announcements = [a for a in feed.announcements if a.announced_on == day]
        return announcements, _source_kind(settings), str(feed_file)
    feed, path = _rss_day(settings, day)
    return list(feed.announcements), _source_kind(settings), str(path) if path else None


def check_file_holds(path: Path, settings: ArxivSettings, day: date) -> None:
    """Refuse a day that a saved feed file does not hold (a typo, or the wrong file)."""
    days = {announcement.announced_on for announcement in _read_file(path, settings).announcements}
    if days and day not in days:
        raise FeedError(
            f"{path} holds no announcement of {day}: it holds {min(days)} to {max(days)} "
            "(pass one of its days with --day, or leave --day out for its latest)"
        )


def latest_day(settings: Settings) -> date:
    """Return the announcement day the source holds now (the RSS feed is saved on the way)."""
    feed_file = settings.arxiv.feed_file
    if feed_file is not None:
        feed = _read_file(feed_file, settings.arxiv)
        if feed.announced_on is None:
            raise FeedError(f"{feed_file} holds no dated announcements")
        return feed.announced_on
    feed, _ = _download_rss(settings)
    return feed.announced_on or today_in_new_york()


def _source_kind(settings: Settings) -> str:
    return "file" if settings.arxiv.feed_file is not None else "rss"


def run(engine: Engine, day: date, *, settings: Settings) -> StageReport:
    """Read the day's announcements (saved bytes, else the network or feed file) and store them.

    A day another source already stored (a backfill from the API, say) is not read again: the
    RSS feed only ever holds the latest day.
    """
    with session_scope(engine) as session:
        recorded = session.get(FeedDay, day)
    if (
        recorded is not None
        and recorded.status == DayStatus.ANNOUNCED
        and recorded.source != _source_kind(settings)
    ):
        note = f"{day} was already stored from {recorded.source}"
        return StageReport("fetch", written=0, note=note)
    announcements, source, raw = _day_announcements(settings, day)
    with session_scope(engine) as session:
        return store_day(session, day, announcements, source=source, raw_path=raw)
