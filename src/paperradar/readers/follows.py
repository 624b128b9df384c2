"""Followed authors: a profile's (its YAML `authors:`) and a chat's own (FollowedAuthor rows)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from paperradar.errors import PaperRadarError
from paperradar.profiles.profile import ARXIV_ID_PATTERN, Profile
from paperradar.readers.authors import (
    Fit,
    Identity,
    Name,
    author_position,
    fold,
    identities,
    is_by,
    parse_name,
)
from paperradar.store.records import FollowedAuthor, Paper
from paperradar.text import clean_text, cut

MAX_FOLLOWS = 50
# `Min Zhang 2510.12899`: a name, then the arXiv id of one of that person's papers.
PINNED = re.compile(r"^(?P<name>.+?)\s+(?P<pin>\S+)$")
ARXIV_ID = re.compile(ARXIV_ID_PATTERN)
# Papers read per query when looking for everyone of a name.
SCAN_CHUNK = 2000


class FollowError(PaperRadarError):
    """A follow that cannot be stored."""


class NotAName(FollowError):
    """The text to follow holds no given name and surname."""


class TooManyFollows(FollowError):
    """The chat follows as many authors as it may."""


class PinMismatch(FollowError):
    """The paper a follow is pinned to is stored and does not list the name."""


@dataclass(frozen=True)
class Followed:
    """One followed person: the name as written, parsed, and the paper it is pinned to."""

    written: str
    name: Name
    pin: str | None = None


def parse_follow(text: str) -> Followed:
    """Read `Jun-Yan Zhu`, `au:del_maestro_a` or `Min Zhang 2510.12899` (pinned)."""
    written = cut(clean_text(text), 160)
    pin = None
    found = PINNED.match(written)
    if found is not None and ARXIV_ID.match(found.group("pin")):
        written, pin = found.group("name").strip(), found.group("pin")
    name = parse_name(written)
    if name is None or not name.given:
        raise NotAName(
            "give a first name or initial and a surname, as arXiv lists it (Jun-Yan Zhu, "
            "A. Del Maestro), optionally followed by the arXiv id of one of their papers"
        )
    return Followed(written=written, name=name, pin=pin)


def profile_follows(profile: Profile) -> list[Followed]:
    """The authors a profile's YAML names (names that parse to no person are left out)."""
    follows = []
    for entry in profile.authors:
        name = parse_name(entry.name)
        if name is not None and name.given:
            follows.append(Followed(written=entry.name, name=name, pin=entry.pin))
    return follows


def chat_follows(session: Session, profile: str) -> list[Followed]:
    """The authors a chat follows (its own profile `sub-<id>`), oldest first."""
    rows = session.exec(
        select(FollowedAuthor)
        .where(FollowedAuthor.profile == profile)
        .order_by(col(FollowedAuthor.id))
    )
    follows = []
    for row in rows:
        name = parse_name(row.name)
        if name is not None:
            follows.append(Followed(written=row.name, name=name, pin=row.pinned_paper))
    return follows


def add_follow(session: Session, *, profile: str, followed: Followed) -> FollowedAuthor:
    """Follow an author (again: the pin is replaced); a pin to a stored paper that does not
    list the name is refused."""
    pinned = session.get(Paper, followed.pin) if followed.pin else None
    if pinned is not None and not author_position(
        followed.name, pinned.authors, at_least=Fit.INITIALS
    ):
        raise PinMismatch(f"{followed.pin} does not list {followed.written} among its authors")
    row = session.exec(
        select(FollowedAuthor).where(
            FollowedAuthor.profile == profile, FollowedAuthor.key == followed.name.key
        )
    ).first()
    if row is None:
        count = len(chat_follows(session, profile))
        if count >= MAX_FOLLOWS:
            raise TooManyFollows(f"at most {MAX_FOLLOWS} authors: unfollow one first")
        row = FollowedAuthor(profile=profile, name=followed.written, key=followed.name.key)
    row.name, row.pinned_paper = followed.written, followed.pin
    session.add(row)
    session.flush()
    return row


def remove_follow(session: Session, *, profile: str, text: str) -> FollowedAuthor | None:
    """Stop following an author named as followed (any spelling of the same name)."""
    name = parse_name(clean_text(text))
    if name is None:
        return None
    rows = session.exec(select(FollowedAuthor).where(FollowedAuthor.profile == profile)).all()
    for row in rows:
        if row.key == name.key:
            session.delete(row)
            return row
    return None


def papers_by_name(session: Session, name: Name) -> list[tuple[str, list[str]]]:
    """Every stored paper (id, authors) whose author list holds the name, initials included.

    The authors are a JSON list, so the surname cannot be searched in SQL across databases;
    the lists are read in chunks and matched here (readers/authors.py).
    """
    found = []
    for paper_id, authors in _all_authors(session):
        if name.last in fold(" ".join(authors)) and author_position(
            name, authors, at_least=Fit.INITIALS
        ):
            found.append((paper_id, authors))
    return found


def _all_authors(session: Session) -> Iterator[tuple[str, list[str]]]:
    rows = session.exec(
        select(Paper.arxiv_id, Paper.authors).execution_options(yield_per=SCAN_CHUNK)
    )
    for paper_id, authors in rows:
        yield paper_id, list(authors)


def pinned_identity(session: Session, followed: Followed) -> Identity | None:
    """The person a pinned follow means: the identity its pinned paper belongs to; None when
    the follow is not pinned or the paper is not stored (then the name alone decides)."""
    if followed.pin is None:
        return None
    return next(
        (
            identity
            for identity in identities(followed.name, papers_by_name(session, followed.name))
            if followed.pin in identity.papers
        ),
        None,
    )


def papers_of_day_by(
    session: Session, follows: Sequence[Followed], day: date
) -> dict[str, tuple[str, ...]]:
    """The day's candidates by people followed: each paper's id and the follows (as written)
    it is by, in paper id order."""
    if not follows:
        return {}
    pinned = {followed: pinned_identity(session, followed) for followed in follows}
    rows = session.exec(
        select(Paper.arxiv_id, Paper.authors)
        .where(Paper.first_announced_on == day)
        .order_by(col(Paper.arxiv_id))
    )
    found: dict[str, tuple[str, ...]] = {}
    for paper_id, authors in rows:
        by = tuple(
            followed.written
            for followed in follows
            if is_by(followed.name, list(authors), pinned[followed])
        )
        if by:
            found[paper_id] = by
    return found
