"""Updated versions: a paper an earlier digest of the profile showed got a new version since, so
the next digest lists it once, with what changed.

"Sent" means shown in an earlier digest of the same profile, not "a delivery succeeded": a
digest is written once, before its deliveries go out, and each reader receives a profile's
digests oldest first, so the digest that showed the paper reaches a reader before the one that
lists its update; the archive, which has no deliveries, shows the same digests.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from paperradar.compose.changes import TextChange, compare, describe
from paperradar.i18n import Words
from paperradar.store.db import row_id
from paperradar.store.records import (
    Digest,
    DigestItem,
    DigestUpdate,
    Paper,
    PaperRevision,
    Summary,
)


@dataclass(frozen=True)
class UpdateView:
    """One listed update: the paper as it is now and what changed since the reader saw it."""

    paper: Paper
    old_version: int
    new_version: int
    first_sent_on: date
    # The profile's topics the paper was picked under, in the order it was picked.
    topics: tuple[str, ...]
    # The title the reader was sent, when the new version changed it.
    old_title: str | None
    abstract: TextChange
    # The LLM's summary of the paper's current text, when one was written.
    summary: Summary | None = None


@dataclass
class _Shown:
    first_day: date
    topics: list[str]


def _shown_before_revisions(
    session: Session, profile: str, day: date
) -> tuple[dict[str, _Shown], list[PaperRevision]]:
    """The profile's papers that got a new version (announced by `day`) after a digest showed
    them, and every revision of those papers."""
    rows = session.exec(
        select(col(DigestItem.paper_id), col(DigestItem.topic), col(Digest.day))
        .join(Digest, col(Digest.id) == col(DigestItem.digest_id))
        .join(PaperRevision, col(PaperRevision.paper_id) == col(DigestItem.paper_id))
        .where(
            Digest.profile == profile,
            col(Digest.day) < col(PaperRevision.day),
            col(PaperRevision.day) <= day,
        )
        .order_by(col(Digest.day), col(DigestItem.rank))
    ).all()
    shown: dict[str, _Shown] = {}
    for paper_id, topic, shown_on in rows:
        entry = shown.setdefault(paper_id, _Shown(shown_on, []))
        if topic not in entry.topics:
            entry.topics.append(topic)
    revisions = session.exec(
        select(PaperRevision)
        .where(col(PaperRevision.paper_id).in_(list(shown)))
        .order_by(col(PaperRevision.paper_id), col(PaperRevision.new_version))
    ).all()
    return shown, list(revisions)


def _listed(session: Session, profile: str, ids: Collection[str]) -> dict[str, int]:
    """The newest version an update of the profile already listed, per paper."""
    rows = session.exec(
        select(DigestUpdate.paper_id, DigestUpdate.new_version)
        .join(Digest, col(Digest.id) == col(DigestUpdate.digest_id))
        .where(Digest.profile == profile, col(DigestUpdate.paper_id).in_(list(ids)))
    ).all()
    listed: dict[str, int] = {}
    for paper_id, version in rows:
        listed[paper_id] = max(version, listed.get(paper_id, 0))
    return listed


def _update_row(
    digest_id: int, shown: _Shown, pending: list[PaperRevision], new_title: str, new_abstract: str
) -> DigestUpdate:
    first, last = pending[0], pending[-1]
    change = compare(first.abstract, new_abstract)
    title_changed = " ".join(first.title.split()) != " ".join(new_title.split())
    return DigestUpdate(
        digest_id=digest_id,
        paper_id=first.paper_id,
        old_version=first.old_version,
        new_version=last.new_version,
        first_sent_on=shown.first_day,
        topics=shown.topics,
        old_title=first.title if title_changed else None,
        abstract_changed=change.changed,
        words_added=change.words_added,
        words_removed=change.words_removed,
        sentences_added=list(change.sentences_added),
        sentences_revised=change.sentences_revised,
        sentences_removed=change.sentences_removed,
    )


def record_updates(session: Session, digest: Digest) -> int:
    """Write the updates a newly composed digest lists: each new version announced by its day of
    a paper an earlier digest of its profile showed, unless a digest of the profile listed it;
    return how many. Several new versions since the last listing make one update."""
    shown, revisions = _shown_before_revisions(session, digest.profile, digest.day)
    listed = _listed(session, digest.profile, shown)
    by_paper: dict[str, list[PaperRevision]] = {}
    for revision in revisions:
        by_paper.setdefault(revision.paper_id, []).append(revision)
    papers = {
        paper.arxiv_id: paper
        for paper in session.exec(select(Paper).where(col(Paper.arxiv_id).in_(list(by_paper))))
    }
    rows = []
    for paper_id, history in by_paper.items():
        pending = [
            revision
            for revision in history
            if revision.day <= digest.day
            and revision.day > shown[paper_id].first_day
            and revision.new_version > listed.get(paper_id, 0)
        ]
        if not pending:
            continue
        # The new version's text: what the next replacement kept aside, else the paper's own.
        later = [revision for revision in history if revision.new_version > pending[-1].new_version]
        current = later[0] if later else papers[paper_id]
        rows.append(
            _update_row(row_id(digest), shown[paper_id], pending, current.title, current.abstract)
        )
    rows.sort(key=lambda row: (row.first_sent_on, row.paper_id))
    session.add_all(rows)
    return len(rows)


def stored_updates(session: Session, digest_id: int) -> list[tuple[DigestUpdate, Paper]]:
    """A digest's updates with their papers, in the order they were written."""
    rows = session.exec(
        select(DigestUpdate, Paper)
        .join(Paper, col(Paper.arxiv_id) == col(DigestUpdate.paper_id))
        .where(DigestUpdate.digest_id == digest_id)
        .order_by(col(DigestUpdate.id))
    ).all()
    return [(update, paper) for update, paper in rows]


def update_view(row: DigestUpdate, paper: Paper, summary: Summary | None) -> UpdateView:
    """The view of one stored update."""
    change = TextChange(
        changed=row.abstract_changed,
        words_added=row.words_added,
        words_removed=row.words_removed,
        sentences_added=tuple(row.sentences_added),
        sentences_revised=row.sentences_revised,
        sentences_removed=row.sentences_removed,
    )
    return UpdateView(
        paper=paper,
        old_version=row.old_version,
        new_version=row.new_version,
        first_sent_on=row.first_sent_on,
        topics=tuple(row.topics),
        old_title=row.old_title,
        abstract=change,
        summary=summary,
    )


def for_topics(updates: Iterable[UpdateView], topics: Collection[str]) -> tuple[UpdateView, ...]:
    """The updates of papers picked under one of these topics (what a subscriber of only some
    of a profile's topics was sent)."""
    return tuple(update for update in updates if set(update.topics) & set(topics))


def what_changed(update: UpdateView, t: Words) -> str:
    """What the new version changed, in one line of the reader's language: the old title when
    it changed, then the abstract's change; "title and abstract unchanged" when neither did."""
    parts = [t("updates.title_was", title=update.old_title)] if update.old_title else []
    if update.abstract.changed:
        parts.append(describe(update.abstract, t))
    return t.join(parts) if parts else t("updates.text_unchanged")
