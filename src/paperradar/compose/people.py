"""The "People you follow" part of a digest: a day's papers by followed authors, always shown.

A paper by someone a profile (its YAML `authors:`) or a chat (`/follow`) follows is a pick
whatever its topic score: it needs no Match. When it has one for the profile (a topic it
clears, or one it was scored under), the best one travels with it. Novelty stays out of the
digest: on the development set it does not single out the curated lists' papers
(docs/people.md), so only the researcher pages show it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from paperradar.profiles.profile import Profile
from paperradar.rank.picks import best_first, day_matches
from paperradar.readers.follows import (
    Followed,
    chat_follows,
    papers_of_day_by,
    profile_follows,
)
from paperradar.readers.topics import own_profile_name
from paperradar.store.records import Match, Paper, Subscription


@dataclass(frozen=True)
class PersonItem:
    """A day's paper by someone followed: the paper, who of the follows wrote it, and its best
    match for the profile (None below every topic's keep line)."""

    paper: Paper
    followed: tuple[str, ...]
    match: Match | None
    # The topic it is also a pick under in this digest, if any (renderers may point there).
    picked_under: str | None = None


def follows_of(session: Session, profile: Profile) -> list[Followed]:
    """Whom a profile follows: its YAML `authors:`, and for a chat's own profile its `/follow`s."""
    return [*profile_follows(profile), *chat_follows(session, profile.name)]


def subscription_follows(session: Session, subscription: Subscription) -> list[Followed]:
    """Whom a chat follows (`/follow`), whether or not it has topics of its own."""
    return chat_follows(session, own_profile_name(subscription))


def people_items(
    session: Session,
    *,
    profile: Profile,
    day: date,
    follows: Sequence[Followed],
    picked: dict[str, str] | None = None,
) -> tuple[PersonItem, ...]:
    """The day's papers by `follows`, with the profile's best match of each; `picked` maps the
    digest's picks (paper id) to the topic they are shown under."""
    by = papers_of_day_by(session, follows, day)
    if not by:
        return ()
    papers = {
        paper.arxiv_id: paper
        for paper in session.exec(select(Paper).where(col(Paper.arxiv_id).in_(list(by))))
    }
    matches: dict[str, Match] = {}
    for match in best_first(day_matches(session, profile, day)):
        if match.paper_id in by and match.topic in profile.topics:
            matches.setdefault(match.paper_id, match)
    return tuple(
        PersonItem(
            paper=papers[paper_id],
            followed=followed,
            match=matches.get(paper_id),
            picked_under=(picked or {}).get(paper_id),
        )
        for paper_id, followed in by.items()
    )
