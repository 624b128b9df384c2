"""Researcher pages: one per author of any pick or followed by a shown profile, and their index.

A page is one name as readers/authors.py folds it (`junyan-zhu` holds Jun-Yan Zhu and Junyan
Zhu), not one person: a shared name shows everyone's papers, and the co-authors tell them
apart. A followed author's page holds every stored paper of theirs (`paperradar authors
backfill` fills it), picked or not; an author of a pick shows their picks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from importlib import resources

from sqlmodel import Session, col, select

from paperradar.embed.novelty import stored_percents
from paperradar.profiles.profile import Profile
from paperradar.readers.authors import Fit, author_position, is_by, parse_name
from paperradar.readers.follows import papers_by_name, pinned_identity, profile_follows
from paperradar.store.records import Paper
from paperradar.web import site
from paperradar.web.archive import Archive

BATCH = 500
SHOWN_COAUTHORS = 30


@dataclass(frozen=True)
class Pick:
    """A pick of a researcher's paper: where and how high."""

    profile: str
    topic: str
    day: date
    percent: int


@dataclass(frozen=True)
class AuthorPaper:
    """One of a researcher's papers as their page lists it."""

    paper: Paper
    picks: tuple[Pick, ...]
    novelty: int | None


@dataclass
class Author:
    """A researcher's page: their papers, newest first, and who follows them."""

    key: str
    spellings: Counter[str] = field(default_factory=Counter)
    papers: dict[str, AuthorPaper] = field(default_factory=dict)
    followed_as: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        """The spelling arXiv lists most often (ties: the longest, then the first)."""
        return max(self.spellings, key=lambda spelling: (self.spellings[spelling], len(spelling)))

    @property
    def shown(self) -> list[AuthorPaper]:
        """The papers, newest first."""
        return sorted(self.papers.values(), key=lambda p: (_seen(p), p.paper.arxiv_id))[::-1]

    @property
    def first_seen(self) -> date | None:
        """The day its first paper was announced (or first picked)."""
        return min((d for d in map(_seen, self.papers.values()) if d != date.min), default=None)

    @property
    def last_seen(self) -> date | None:
        """The day its newest paper was announced (or last picked)."""
        return max((d for d in map(_seen, self.papers.values()) if d != date.min), default=None)

    def categories(self) -> list[tuple[str, int]]:
        """Its papers' categories, the most frequent first."""
        counts = Counter(c for p in self.papers.values() for c in p.paper.categories)
        return counts.most_common()

    def coauthors(self) -> list[tuple[str, str, int]]:
        """(name, key, papers together), the most frequent first."""
        counts: Counter[str] = Counter()
        names: dict[str, str] = {}
        for entry in self.papers.values():
            for author in entry.paper.authors:
                name = parse_name(author)
                if name is not None and name.key != self.key:
                    counts[name.key] += 1
                    names.setdefault(name.key, author)
        return [(names[key], key, n) for key, n in counts.most_common(SHOWN_COAUTHORS)]


def _seen(entry: AuthorPaper) -> date:
    days = [pick.day for pick in entry.picks]
    if entry.paper.first_announced_on is not None:
        days.append(entry.paper.first_announced_on)
    return min(days, default=date.min)


def author_path(key: str) -> str:
    """Where a researcher's page lives."""
    return f"authors/{key}.html"


def collect_authors(
    session: Session, archive: Archive, profiles: Sequence[Profile]
) -> dict[str, Author]:
    """Every researcher with a page: the authors of every pick, and the followed ones."""
    picks: dict[str, list[Pick]] = {}
    for row in archive.picks:
        picks.setdefault(row.paper.arxiv_id, []).append(
            Pick(row.profile, row.topic, row.day, row.percent)
        )
    papers = _papers(session, list(picks))
    authors: dict[str, Author] = {}
    followed: list[tuple[str, Paper, int]] = []
    for profile in profiles:
        for follow in profile_follows(profile):
            pinned = pinned_identity(session, follow)
            found = [paper_id for paper_id, _ in papers_by_name(session, follow.name)]
            for paper in _papers(session, found).values():
                if is_by(follow.name, paper.authors, pinned):
                    at = author_position(follow.name, paper.authors, at_least=Fit.INITIALS)
                    followed.extend((follow.written, paper, index) for index in at)
                    papers.setdefault(paper.arxiv_id, paper)
    novelty = stored_percents(session, list(papers))

    def add(author: str, paper: Paper) -> Author | None:
        name = parse_name(author)
        if name is None or not name.given:
            return None
        entry = authors.setdefault(name.key, Author(name.key))
        entry.spellings[author] += 1
        pid = paper.arxiv_id
        entry.papers[pid] = AuthorPaper(paper, tuple(picks.get(pid, ())), novelty.get(pid))
        return entry

    for paper_id in picks:
        for author in papers[paper_id].authors:
            add(author, papers[paper_id])
    for written, paper, index in followed:
        entry = add(paper.authors[index], paper)
        if entry is not None:
            entry.followed_as.add(written)
    return authors


def _papers(session: Session, ids: Sequence[str]) -> dict[str, Paper]:
    found: dict[str, Paper] = {}
    for start in range(0, len(ids), BATCH):
        batch = list(ids[start : start + BATCH])
        found.update(
            (paper.arxiv_id, paper)
            for paper in session.exec(select(Paper).where(col(Paper.arxiv_id).in_(batch)))
        )
    return found


def researcher_pages(
    session: Session, info: site.Site, archive: Archive, day: date | None
) -> Iterator[site.Page]:
    """The web stage's part: the index, its script, and the pages the day touches (all on a
    full build)."""
    authors = collect_authors(session, archive, info.profiles)
    script = resources.files("paperradar") / "templates" / "web" / "assets" / "authors.js"
    yield site.Page("assets/authors.js", script.read_bytes())
    yield from author_pages(info, authors, touched_by(archive, authors, day))


def author_pages(
    info: site.Site, authors: dict[str, Author], touched: Iterable[str] | None
) -> Iterator[site.Page]:
    """The index and the researchers' pages (`touched`: only those keys; None: all)."""
    ordered = sorted(authors.values(), key=lambda a: (-len(a.papers), a.name.lower()))
    yield site._render(info, "authors.html.j2", "authors/index.html", None, authors=ordered)
    keys = set(authors) if touched is None else set(touched) & set(authors)
    for key in sorted(keys):
        author = authors[key]
        yield site._render(
            info,
            "author.html.j2",
            author_path(key),
            None,
            author=author,
            has_page=authors.keys(),
        )


def touched_by(archive: Archive, authors: dict[str, Author], day: date | None) -> set[str] | None:
    """The pages a day's run rewrites: its picks' authors and every followed one."""
    if day is None:
        return None
    keys = {key for key, author in authors.items() if author.followed_as}
    for row in archive.picks:
        if row.day == day:
            names = (parse_name(author) for author in row.paper.authors)
            keys.update(name.key for name in names if name is not None)
    return keys
