"""Keep the text a reader was sent when a new version of the paper replaces it in the store.

A replacement overwrites the stored paper's title and abstract, so the version a digest showed
is kept aside first, but only for papers some digest showed: the rest are never compared.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from sqlmodel import Session, col, select

from paperradar.ingest.announcement import Announcement
from paperradar.store.records import DigestItem, Paper, PaperRevision


def _shown(session: Session, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    query = select(DigestItem.paper_id).where(col(DigestItem.paper_id).in_(ids)).distinct()
    return set(session.exec(query))


def keep_replaced(
    session: Session, papers: Mapping[str, Paper], announcements: Iterable[Announcement], day: date
) -> None:
    """Add a PaperRevision of each shown paper an announcement of `day` brings a newer version
    of, before the upsert overwrites its text."""
    newest: dict[str, int] = {}
    for announcement in announcements:
        paper = papers.get(announcement.arxiv_id)
        if paper is not None and announcement.version > paper.version:
            newest[paper.arxiv_id] = max(announcement.version, newest.get(paper.arxiv_id, 0))
    for arxiv_id in sorted(_shown(session, list(newest))):
        paper = papers[arxiv_id]
        session.add(
            PaperRevision(
                paper_id=arxiv_id,
                old_version=paper.version,
                new_version=newest[arxiv_id],
                title=paper.title,
                abstract=paper.abstract,
                day=day,
            )
        )
