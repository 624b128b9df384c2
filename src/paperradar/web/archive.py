"""Read what the web archive shows from the database: digests, picks, papers, trend figures.

Lists, feeds, trends and search read light rows of every pick (columns, not records); a
paper's own page reads its full records, a few hundred papers at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func
from sqlmodel import Session, col, select

from paperradar.compose.digests import current_summaries
from paperradar.profiles.profile import Profile
from paperradar.store.records import Digest, DigestItem, Match, Paper, Summary
from paperradar.store.states import SummaryStatus

# Papers read per query for their own pages: well under every database's parameter limit.
DETAIL_BATCH = 500


@dataclass(frozen=True)
class DayEntry:
    """One composed digest of a profile, as the calendar and the day navigation show it."""

    day: date
    announced: bool
    candidates: int
    picks: int


@dataclass(frozen=True)
class PaperBrief:
    """The parts of a paper that lists, feeds and search show."""

    arxiv_id: str
    title: str
    authors: tuple[str, ...]
    abstract: str


@dataclass(frozen=True)
class SummaryBrief:
    """The parts of a paper's current good summary that lists, feeds and search show."""

    title_zh: str | None
    tldr_zh: str | None
    tldr_en: str | None


@dataclass(frozen=True)
class PickRow:
    """One pick, as topic pages, feeds and search show it; `summary` only when it is good."""

    profile: str
    topic: str
    day: date
    rank: int
    percent: int
    reason: str
    composed_at: datetime
    paper: PaperBrief
    summary: SummaryBrief | None


@dataclass(frozen=True)
class PaperDetail:
    """A paper with its current summary and every match it has, for the paper's own page."""

    paper: Paper
    summary: Summary | None
    matches: tuple[Match, ...]


@dataclass(frozen=True)
class Archive:
    """Everything the site shows beyond one day's digest and one paper's page."""

    # Per profile, oldest day first.
    days: dict[str, tuple[DayEntry, ...]]
    # Newest day first, then profile, topic and rank.
    picks: tuple[PickRow, ...]
    # (profile, topic, day) -> the day's best match percent for the topic, picked or not.
    top_percent: dict[tuple[str, str, date], int]
    # Titles of every paper announced in the keyword window: what keywords stand out from.
    recent_titles: tuple[str, ...]
    # The first day of the keyword window.
    keywords_since: date


def _digest_days(session: Session, names: Sequence[str]) -> dict[str, tuple[DayEntry, ...]]:
    counts: dict[int | None, int] = dict(
        session.exec(
            select(DigestItem.digest_id, func.count()).group_by(col(DigestItem.digest_id))
        ).all()
    )
    days: dict[str, list[DayEntry]] = {name: [] for name in names}
    digests = session.exec(
        select(Digest).where(col(Digest.profile).in_(names)).order_by(col(Digest.day))
    ).all()
    for digest in digests:
        entry = DayEntry(digest.day, digest.announced, digest.candidates, counts.get(digest.id, 0))
        days[digest.profile].append(entry)
    return {name: tuple(entries) for name, entries in days.items()}


def _summary_briefs(session: Session) -> dict[str, SummaryBrief]:
    """Each picked paper's newest good summary of its current text (as digests chooses)."""
    current = and_(
        col(Paper.arxiv_id) == col(Summary.paper_id), col(Paper.text_sha) == col(Summary.text_sha)
    )
    rows = session.exec(
        select(Summary.paper_id, Summary.title_zh, Summary.tldr_zh, Summary.tldr_en)
        .join(Paper, current)
        .where(Summary.status == SummaryStatus.OK)
        .where(col(Summary.paper_id).in_(select(DigestItem.paper_id)))
        .order_by(col(Summary.created_at))
    ).all()
    return {paper_id: SummaryBrief(*texts) for paper_id, *texts in rows}


# The columns of a pick row, in the order PickRow and PaperBrief take them.
_PICK_COLUMNS: tuple[Any, ...] = (
    Digest.profile,
    DigestItem.topic,
    Digest.day,
    DigestItem.rank,
    Match.percent,
    Match.reason,
    Digest.created_at,
    Paper.arxiv_id,
    Paper.title,
    Paper.authors,
    Paper.abstract,
)


def _picks(session: Session, names: Sequence[str]) -> tuple[PickRow, ...]:
    rows = session.exec(
        select(*_PICK_COLUMNS)
        .join(Digest, col(DigestItem.digest_id) == col(Digest.id))
        .join(Match, col(DigestItem.match_id) == col(Match.id))
        .join(Paper, col(DigestItem.paper_id) == col(Paper.arxiv_id))
        .where(col(Digest.profile).in_(names))
        .order_by(
            col(Digest.day).desc(), col(Digest.profile), col(DigestItem.topic), col(DigestItem.rank)
        )
    ).all()
    summaries = _summary_briefs(session)
    picks = []
    for profile, topic, day, rank, percent, reason, composed_at, *paper in rows:
        brief = PaperBrief(paper[0], paper[1], tuple(paper[2]), paper[3])
        picks.append(
            PickRow(
                profile,
                topic,
                day,
                rank,
                percent,
                reason,
                composed_at,
                paper=brief,
                summary=summaries.get(brief.arxiv_id),
            )
        )
    return tuple(picks)


def _top_percent(session: Session, names: Sequence[str]) -> dict[tuple[str, str, date], int]:
    rows = session.exec(
        select(col(Match.profile), col(Match.topic), col(Match.day), func.max(Match.percent))
        .where(col(Match.profile).in_(names))
        .group_by(col(Match.profile), col(Match.topic), col(Match.day))
    ).all()
    return {(profile, topic, day): int(best) for profile, topic, day, best in rows}


def load_archive(
    session: Session, profiles: Sequence[Profile], *, keyword_days: int = 30
) -> Archive:
    """Read every digest day, pick and trend figure of the profiles the site shows."""
    names = [profile.name for profile in profiles]
    days = _digest_days(session, names)
    latest = max((entries[-1].day for entries in days.values() if entries), default=None)
    since = latest - timedelta(days=keyword_days - 1) if latest else date.min
    titles = session.exec(select(Paper.title).where(col(Paper.first_announced_on) >= since)).all()
    return Archive(
        days=days,
        picks=_picks(session, names),
        top_percent=_top_percent(session, names),
        recent_titles=tuple(titles),
        keywords_since=since,
    )


def paper_details(session: Session, paper_ids: Sequence[str]) -> Iterator[PaperDetail]:
    """Read papers with their summaries and matches, a batch at a time, in the given order."""
    for start in range(0, len(paper_ids), DETAIL_BATCH):
        batch = paper_ids[start : start + DETAIL_BATCH]
        papers = {
            paper.arxiv_id: paper
            for paper in session.exec(select(Paper).where(col(Paper.arxiv_id).in_(batch)))
        }
        rows = session.exec(select(Summary).where(col(Summary.paper_id).in_(batch))).all()
        summaries = current_summaries(rows, papers.values())
        matches: dict[str, list[Match]] = {}
        for match in session.exec(
            select(Match).where(col(Match.paper_id).in_(batch)).order_by(col(Match.percent).desc())
        ):
            matches.setdefault(match.paper_id, []).append(match)
        for paper_id in batch:
            yield PaperDetail(
                papers[paper_id], summaries.get(paper_id), tuple(matches.get(paper_id, ()))
            )
