"""Compose one Digest per (profile, day) from the day's matches, and load it back as a view."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from paperradar.compose.people import PersonItem, follows_of, people_items
from paperradar.compose.updates import UpdateView, record_updates, stored_updates, update_view
from paperradar.profiles.profile import Profile, Topic
from paperradar.rank.picks import best_first, day_matches, select_picks
from paperradar.rank.reasons import MatchReason
from paperradar.reports import StageReport
from paperradar.store.db import row_id, session_scope
from paperradar.store.records import Digest, DigestItem, FeedDay, Match, Paper, Summary
from paperradar.store.states import DayStatus, SummaryStatus

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ItemView:
    """One digest item joined with its paper, its matches and its summary (if any)."""

    rank: int
    paper: Paper
    match: Match
    also: tuple[Match, ...]
    summary: Summary | None
    # The item's place in the whole digest (1, 2, … across topics): what a vote button names.
    number: int = 0

    @property
    def affiliations(self) -> tuple[str, ...]:
        """The paper's institutions, once each in author order (as every source stores them);
        empty when no source stated them."""
        return tuple(self.paper.affiliations)


@dataclass(frozen=True)
class TopicSection:
    """A topic's picks in rank order."""

    key: str
    topic: Topic
    items: tuple[ItemView, ...]


@dataclass(frozen=True)
class DigestView:
    """Everything a renderer needs to show one profile's digest of one day."""

    profile: Profile
    day: date
    announced: bool
    candidates: int
    sections: tuple[TopicSection, ...]
    # Titles of the papers the items' reasons name (seed papers, papers readers liked).
    titles: Mapping[str, str] = field(default_factory=dict)
    # New versions of papers an earlier digest of the profile showed (compose/updates.py).
    updates: tuple[UpdateView, ...] = ()
    # "People you follow": the day's papers by followed authors, shown first (compose/people.py).
    people: tuple[PersonItem, ...] = ()

    @property
    def pick_count(self) -> int:
        """How many papers the digest shows."""
        extra = sum(1 for item in self.people if item.picked_under is None)
        return sum(len(section.items) for section in self.sections) + extra

    def renumbered(self) -> DigestView:
        """The same digest with its items numbered 1, 2, … again (after some were left out)."""
        numbers = iter(range(1, self.pick_count + 1))
        sections = tuple(
            replace(section, items=tuple(replace(i, number=next(numbers)) for i in section.items))
            for section in self.sections
        )
        return replace(self, sections=sections)

    @property
    def items(self) -> tuple[ItemView, ...]:
        """Every item in the digest's order (the contents list)."""
        return tuple(item for section in self.sections for item in section.items)


def compose_digest(session: Session, *, profile: Profile, day: date) -> Digest | None:
    """Write the profile's Digest and items for the day; None when it already exists."""
    existing = session.exec(
        select(Digest).where(Digest.profile == profile.name, Digest.day == day)
    ).first()
    if existing is not None:
        return None
    feed_day = session.get(FeedDay, day)
    announced = feed_day is not None and feed_day.status == DayStatus.ANNOUNCED
    candidates = len(
        session.exec(select(Paper.arxiv_id).where(Paper.first_announced_on == day)).all()
    )
    digest = Digest(profile=profile.name, day=day, announced=announced, candidates=candidates)
    session.add(digest)
    digest_id = row_id(digest)
    for pick in select_picks(day_matches(session, profile, day), profile):
        session.add(
            DigestItem(
                digest_id=digest_id,
                topic=pick.topic,
                rank=pick.rank,
                paper_id=pick.match.paper_id,
                match_id=row_id(pick.match),
            )
        )
    record_updates(session, digest)
    return digest


def current_summaries(rows: Iterable[Summary], papers: Iterable[Paper]) -> dict[str, Summary]:
    """Choose each paper's newest summary of its current text (OK preferred over failed)."""
    current = {paper.arxiv_id: paper.text_sha for paper in papers}
    chosen: dict[str, Summary] = {}
    for row in sorted(rows, key=lambda row: (row.status == SummaryStatus.OK, row.created_at)):
        if row.text_sha == current.get(row.paper_id):
            chosen[row.paper_id] = row
    return chosen


def _latest_summaries(session: Session, papers: Sequence[Paper]) -> dict[str, Summary]:
    ids = [paper.arxiv_id for paper in papers]
    rows = session.exec(select(Summary).where(col(Summary.paper_id).in_(ids))).all()
    return current_summaries(rows, papers)


def view_digest(session: Session, *, profile: Profile, day: date) -> DigestView | None:
    """Load a composed digest with its papers, matches and summaries; None if not composed."""
    digest = session.exec(
        select(Digest).where(Digest.profile == profile.name, Digest.day == day)
    ).first()
    if digest is None:
        return None
    items = session.exec(select(DigestItem).where(DigestItem.digest_id == digest.id)).all()
    papers = {
        paper.arxiv_id: paper
        for paper in session.exec(
            select(Paper).where(col(Paper.arxiv_id).in_([item.paper_id for item in items]))
        )
    }
    matches = day_matches(session, profile, day)
    by_paper: dict[str, list[Match]] = {}
    for match in matches:
        by_paper.setdefault(match.paper_id, []).append(match)
    updated = stored_updates(session, row_id(digest))
    summaries = _latest_summaries(session, [*papers.values(), *(paper for _, paper in updated)])
    sections = []
    number = 0
    for key, topic in profile.topics.items():
        topic_items = sorted((item for item in items if item.topic == key), key=lambda i: i.rank)
        views = []
        for item in topic_items:
            own = next(match for match in by_paper[item.paper_id] if match.id == item.match_id)
            also = tuple(
                match
                for match in best_first(by_paper[item.paper_id])
                if match.id != own.id
                # A topic removed since scoring (a chat's own, say) has matches but no threshold.
                and match.topic in profile.topics
                and match.percent >= profile.topics[match.topic].min_percent
            )
            number += 1
            views.append(
                ItemView(
                    item.rank,
                    papers[item.paper_id],
                    own,
                    also,
                    summaries.get(item.paper_id),
                    number,
                )
            )
        sections.append(TopicSection(key, topic, tuple(views)))
    titles = _named_titles(session, [s.items for s in sections])
    updates = tuple(update_view(row, p, summaries.get(p.arxiv_id)) for row, p in updated)
    picked = {item.paper.arxiv_id: section.key for section in sections for item in section.items}
    follows = follows_of(session, profile)
    people = people_items(session, profile=profile, day=day, follows=follows, picked=picked)
    return DigestView(
        profile, day, digest.announced, digest.candidates, tuple(sections), titles, updates, people
    )


def _named_titles(session: Session, items: Iterable[Iterable[ItemView]]) -> dict[str, str]:
    """The titles of the papers the items' reasons name, for the topic-hit lines."""
    named: set[str] = set()
    for section in items:
        for item in section:
            for match in (item.match, *item.also):
                reason = MatchReason.load(match.reason)
                named.update(reason.papers if reason else ())
    if not named:
        return {}
    rows = session.exec(select(Paper.arxiv_id, Paper.title).where(col(Paper.arxiv_id).in_(named)))
    return dict(rows.all())


def run(engine: Engine, day: date, *, profiles: Sequence[Profile]) -> StageReport:
    """Compose each profile's digest of the day (a no-op for digests already composed)."""
    written = 0
    picks = 0
    with session_scope(engine) as session:
        for profile in profiles:
            digest = compose_digest(session, profile=profile, day=day)
            if digest is None:
                continue
            written += 1
            items = session.exec(select(DigestItem).where(DigestItem.digest_id == digest.id))
            picks += len(items.all())
    logger.debug("compose: %d digest(s), %d pick(s)", written, picks)
    return StageReport("compose", written=written, details={"picks": picks})
