"""The web archive: a static, searchable, bilingual site of past picks, rebuilt after each run.

`run(engine, day, …)` is the pipeline stage: it rewrites the pages the day touches (its digests and
their neighbours, its papers, the topics, the front pages, the feeds and the search index);
`rebuild(…)` rewrites every page. Each file is written atomically and only when its bytes
change, so a reader never sees half a page and a re-run writes nothing.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from http.server import ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlmodel import Session

from paperradar.compose.digests import view_digest
from paperradar.i18n import interface_language, words
from paperradar.profiles.profile import Profile
from paperradar.readers.topics import subscription_id_of
from paperradar.reports import StageReport
from paperradar.store.db import session_scope
from paperradar.store.files import write_atomic
from paperradar.store.states import SummaryStatus
from paperradar.web import site
from paperradar.web.archive import Archive, PickRow, load_archive, paper_details
from paperradar.web.authors import researcher_pages
from paperradar.web.search_index import search_script, search_shard, shard_month
from paperradar.web.server import start_server
from paperradar.web.trends import ProfileTrends, count_terms, profile_trends

if TYPE_CHECKING:
    from paperradar.settings import Settings

logger = logging.getLogger(__name__)

# Writes wait on the disk (fsync), not the CPU, so a few threads overlap them with rendering.
WRITERS = 8
# Pages rendered ahead of the writers, at most: bounds memory on a full rebuild.
WRITE_BACKLOG = 256


@dataclass(frozen=True)
class ArchiveSource:
    """What the archive is built from: the database, the profiles shown, and the settings."""

    engine: Engine
    profiles: Sequence[Profile]
    settings: Settings
    # Without an LLM the pages say that summaries are off rather than showing gaps.
    summaries_on: bool


@dataclass(frozen=True)
class WriteCounts:
    """How many files a build wrote, and how many already held the same bytes."""

    written: int
    unchanged: int


def _write_if_changed(path: Path, data: bytes) -> bool:
    if path.is_file() and path.read_bytes() == data:
        return False
    write_atomic(path, data)
    return True


def _write_pages(out_dir: Path, pages: Iterable[site.Page]) -> WriteCounts:
    # Atomically, and only where a file does not already hold the same bytes.
    written = unchanged = 0
    pending: deque[Future[bool]] = deque()

    def settle(future: Future[bool]) -> None:
        nonlocal written, unchanged
        if future.result():
            written += 1
        else:
            unchanged += 1

    with ThreadPoolExecutor(WRITERS) as pool:
        for page in pages:
            pending.append(pool.submit(_write_if_changed, out_dir / page.path, page.data))
            while len(pending) > WRITE_BACKLOG:
                settle(pending.popleft())
        while pending:
            settle(pending.popleft())
    return WriteCounts(written, unchanged)


def _shown_profiles(profiles: Sequence[Profile]) -> tuple[Profile, ...]:
    # Shared profiles only: a chat's own topics are that chat's business, not a public page's.
    return tuple(profile for profile in profiles if subscription_id_of(profile.name) is None)


def day_page(settings: Settings, profile: str, day: date) -> Path:
    """Return the file of a profile's digest page of a day."""
    return settings.web_dir / site.day_path(profile, day)


def _asset_pages() -> Iterator[site.Page]:
    folder = resources.files("paperradar") / "templates" / "web" / "assets"
    for name in site.ASSETS:
        yield site.Page(f"assets/{name}", (folder / name).read_bytes())


def _days_to_render(archive: Archive, profile: Profile, day: date | None) -> list[date]:
    shown = [entry.day for entry in archive.days.get(profile.name, ())]
    if day is None:
        return shown
    if day not in shown:
        return []
    # The neighbours too: their previous/next links change when a day is added.
    at = shown.index(day)
    return shown[max(at - 1, 0) : at + 2]


def _in_month(month: str, day: date | None) -> bool:
    """Whether a month's pages are rebuilt: all of them on a full build, else the day's."""
    return day is None or month == day.strftime("%Y-%m")


def _search_pages(info: site.Site, archive: Archive, day: date | None) -> Iterator[site.Page]:
    shards: dict[str, list[PickRow]] = {}
    month_of: dict[str, str] = {}
    for pick in archive.picks:  # newest first: a paper's shard is its newest pick's month
        month = month_of.setdefault(pick.paper.arxiv_id, shard_month(pick.day.isoformat()))
        shards.setdefault(month, []).append(pick)
    yield site.render_search(info, list(shards))
    for month, picks in shards.items():
        if _in_month(month, day):
            yield site.Page(f"search/{month}.js", search_script(search_shard(picks, info.profiles)))


def _topic_pages(
    info: site.Site,
    profile: Profile,
    picks: Sequence[PickRow],
    trends: ProfileTrends,
    *,
    archive: Archive,
    day: date | None,
) -> Iterator[site.Page]:
    for key in profile.topics:
        topic_picks = [pick for pick in picks if pick.topic == key]
        months = site.picks_by_month(topic_picks)
        yield site.render_topic(
            info, profile, key, months=months, trends=trends, keywords_since=archive.keywords_since
        )
        for month, month_picks in months.items():
            if _in_month(month, day):
                yield site.render_topic_month(info, profile, key, month, month_picks)
        yield site.render_feed(info, profile, key, topic_picks[: info.feed_entries])


def _profile_pages(
    session: Session, info: site.Site, archive: Archive, day: date | None
) -> Iterator[site.Page]:
    background = count_terms(archive.recent_titles)
    for position, profile in enumerate(info.profiles):
        entries = archive.days.get(profile.name, ())
        for shown_day in _days_to_render(archive, profile, day):
            view = view_digest(session, profile=profile, day=shown_day)
            if view is not None:
                yield site.render_day(info, view, entries)
        latest = view_digest(session, profile=profile, day=entries[-1].day) if entries else None
        t = words(interface_language(profile.languages))
        trends = profile_trends(archive, profile, background, t)
        for at_root in (False, True) if position == 0 else (False,):
            yield site.render_index(
                info, profile, latest=latest, archive=archive, trends=trends, at_root=at_root
            )
        picks = [pick for pick in archive.picks if pick.profile == profile.name]
        yield site.render_feed(info, profile, None, picks[: info.feed_entries])
        yield from _topic_pages(info, profile, picks, trends, archive=archive, day=day)


def _paper_pages(
    session: Session, info: site.Site, archive: Archive, day: date | None
) -> Iterator[site.Page]:
    by_paper: dict[str, list[PickRow]] = {}
    for pick in archive.picks:
        by_paper.setdefault(pick.paper.arxiv_id, []).append(pick)
    shown = [
        paper_id
        for paper_id, picks in by_paper.items()
        if day is None or any(pick.day == day for pick in picks)
    ]
    for detail in paper_details(session, shown):
        summary = detail.summary
        if summary is not None and summary.status == SummaryStatus.FAILED:
            # The reader sees "summary unavailable"; why is the operator's business.
            logger.info("web: %s has no summary to show: %s", summary.paper_id, summary.error)
        yield site.render_paper(info, detail, by_paper[detail.paper.arxiv_id])


def _build(source: ArchiveSource, day: date | None) -> StageReport:
    engine, settings = source.engine, source.settings
    profiles = _shown_profiles(source.profiles)
    web = settings.web
    info = site.Site(web.site_title, web.base_url, profiles, source.summaries_on, web.feed_entries)
    with session_scope(engine) as session:
        archive = load_archive(session, profiles)

        def pages() -> Iterator[site.Page]:
            yield from _asset_pages()
            yield from _search_pages(info, archive, day)
            yield from _profile_pages(session, info, archive, day)
            yield from _paper_pages(session, info, archive, day)
            yield from researcher_pages(session, info, archive, day)

        counts = _write_pages(settings.web_dir, pages())
    total = counts.written + counts.unchanged
    logger.debug("web: %d of %d file(s) written to %s", counts.written, total, settings.web_dir)
    return StageReport("web", written=counts.written, details={"unchanged": counts.unchanged})


def run(source: ArchiveSource, day: date) -> StageReport:
    """Rewrite the archive pages the day touches (a no-op for pages whose bytes are the same)."""
    return _build(source, day)


def rebuild(source: ArchiveSource) -> StageReport:
    """Rewrite every page of the archive, e.g. after an upgrade changed the templates."""
    return _build(source, None)


def serve_archive(source: ArchiveSource) -> ThreadingHTTPServer:
    """Serve the archive over HTTP from a thread, building it first if it was never written."""
    settings = source.settings
    if not (settings.web_dir / "index.html").is_file():
        rebuild(source)
    return start_server(settings.web_dir, settings.web.host, settings.web.port)
