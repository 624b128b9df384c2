"""Store announcements as Paper rows and each day's FeedDay: the upserts of fetch and backfill."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from paperradar.ingest.announcement import Announcement
from paperradar.ingest.revisions import keep_replaced
from paperradar.reports import StageReport
from paperradar.store.records import FeedDay, Paper, utc_now
from paperradar.store.states import AnnounceType, DayStatus

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredCounts:
    """What an upsert of announcements did to the Paper table."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def written(self) -> int:
        """Rows inserted or changed."""
        return self.inserted + self.updated


def _new_paper(announcement: Announcement, *, first: date | None, last: date | None) -> Paper:
    return Paper.model_validate(
        {
            "arxiv_id": announcement.arxiv_id,
            "version": announcement.version,
            "title": announcement.title,
            "abstract": announcement.abstract,
            "authors": list(announcement.authors),
            "affiliations": list(announcement.affiliations),
            "categories": list(announcement.categories),
            "comment": announcement.comment,
            "doi": announcement.doi,
            "journal_ref": announcement.journal_ref,
            # How the paper entered the store: its candidate type, or replace for a paper only
            # ever seen replaced; None for seeds and papers files.
            "announce_type": announcement.announce_type if last else None,
            "first_announced_on": first,
            "last_announced_on": last,
            "text_sha": announcement.text_sha,
        }
    )


def _update(paper: Paper, announcement: Announcement, day: date | None) -> bool:
    """Apply a newer version and a later announcement day to a stored paper; return if changed."""
    changed = False
    if day is not None and announcement.announce_type.is_candidate and not paper.first_announced_on:
        paper.first_announced_on = day
        paper.announce_type = announcement.announce_type
        changed = True
    if announcement.version > paper.version:
        paper.version = announcement.version
        paper.title, paper.abstract = announcement.title, announcement.abstract
        paper.text_sha = announcement.text_sha
        paper.comment = announcement.comment or paper.comment
        paper.doi = announcement.doi or paper.doi
        paper.journal_ref = announcement.journal_ref or paper.journal_ref
        changed = True
    # Only a source that states affiliations (the API) sets them; the RSS feed has none.
    if announcement.affiliations and list(announcement.affiliations) != paper.affiliations:
        paper.affiliations = list(announcement.affiliations)
        changed = True
    if day is not None and (paper.last_announced_on is None or day > paper.last_announced_on):
        paper.last_announced_on = day
        changed = True
    if changed:
        paper.updated_at = utc_now()
    return changed


def stored_papers(session: Session, ids: Iterable[str]) -> dict[str, Paper]:
    """Return the stored papers of these ids by id (ids not stored are left out)."""
    wanted = sorted(set(ids))
    papers: dict[str, Paper] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        papers.update(
            (paper.arxiv_id, paper)
            for paper in session.exec(select(Paper).where(col(Paper.arxiv_id).in_(chunk)))
        )
    return papers


def _upsert(
    session: Session, announcements: Iterable[Announcement], day: date | None
) -> StoredCounts:
    announcements = list(announcements)
    papers = stored_papers(session, (a.arxiv_id for a in announcements))
    if day is not None:
        keep_replaced(session, papers, announcements, day)
    inserted = updated = 0
    for announcement in announcements:
        paper = papers.get(announcement.arxiv_id)
        if paper is None:
            candidate = day is not None and announcement.announce_type.is_candidate
            paper = _new_paper(announcement, first=day if candidate else None, last=day)
            session.add(paper)
            papers[announcement.arxiv_id] = paper
            inserted += 1
        elif _update(paper, announcement, day):
            updated += 1
    return StoredCounts(inserted, updated, len(announcements) - inserted - updated)


def store_announcements(
    session: Session, announcements: Iterable[Announcement], *, day: date
) -> StoredCounts:
    """Upsert one day's announcements; new/cross papers seen for the first time are its candidates.

    A paper announced on an earlier day is not a candidate again; replace/replace-cross update
    the stored paper in place (a newer version's text, `last_announced_on`; the text a digest
    showed is kept as a PaperRevision), and an unknown replaced paper is stored as known but not
    a candidate.
    """
    return _upsert(session, announcements, day)


def store_reference_papers(session: Session, announcements: Iterable[Announcement]) -> StoredCounts:
    """Upsert papers that are no day's candidates (seed papers, a papers file to rank)."""
    return _upsert(session, announcements, None)


def count_types(announcements: Iterable[Announcement]) -> dict[str, int]:
    """Count announcements as new, cross and replace (replace-cross counts as replace)."""
    types = Counter(announcement.announce_type for announcement in announcements)
    return {
        "new": types[AnnounceType.NEW],
        "cross": types[AnnounceType.CROSS],
        "replace": types[AnnounceType.REPLACE] + types[AnnounceType.REPLACE_CROSS],
    }


def record_day(
    session: Session,
    *,
    day: date,
    announcements: Collection[Announcement],
    source: str,
    raw_path: str | None,
) -> bool:
    """Write the day's FeedDay row; return whether it changed.

    A row from another source is replaced only when it recorded no announcement, so a backfill
    never overwrites what the RSS feed recorded.
    """
    types = count_types(announcements)
    values = {
        "status": DayStatus.ANNOUNCED if announcements else DayStatus.NO_ANNOUNCEMENT,
        "source": source,
        "new_count": types["new"],
        "cross_count": types["cross"],
        "replace_count": types["replace"],
        "raw_path": raw_path,
    }
    row = session.get(FeedDay, day)
    if row is None:
        session.add(FeedDay.model_validate({"day": day, **values}))
        return True
    if row.source != source and row.status == DayStatus.ANNOUNCED:
        logger.info("fetch: keeping the %s record of %s over %s", row.source, day, source)
        return False
    if all(getattr(row, key) == value for key, value in values.items()):
        return False
    for key, value in values.items():
        setattr(row, key, value)
    row.fetched_at = utc_now()
    return True


def store_day(
    session: Session,
    day: date,
    announcements: Collection[Announcement],
    *,
    source: str,
    raw_path: str | None,
) -> StageReport:
    """Store one day's announcements and its FeedDay row; report what was written."""
    counts = store_announcements(session, announcements, day=day)
    day_written = record_day(
        session, day=day, announcements=announcements, source=source, raw_path=raw_path
    )
    details: dict[str, int | float] = {
        **count_types(announcements),
        "inserted": counts.inserted,
        "updated": counts.updated,
    }
    note = None if announcements else f"no arXiv announcement on {day.isoformat()}"
    logger.debug("fetch %s: %s, %s", day, details, note or "announced")
    return StageReport(
        "fetch",
        written=counts.written + int(day_written),
        details=details,
        note=note,
        summary=_counts_in_words(details) if announcements else None,
    )


def _counts_in_words(details: dict[str, int | float]) -> str:
    """E.g. '295 papers announced (191 new + 104 cross-lists), 1 replacement; 295 new to the
    database'."""
    new, cross, replaced = (int(details[key]) for key in ("new", "cross", "replace"))
    text = f"{new + cross} papers announced ({new} new + {cross} cross-lists)"
    if replaced:
        text += f", {replaced} replacement{'s' if replaced != 1 else ''}"
    text += f"; {int(details['inserted'])} new to the database"
    updated = int(details["updated"])
    return text + (f", {updated} updated" if updated else "")
