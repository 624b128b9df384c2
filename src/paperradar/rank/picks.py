"""Which matches are a day's picks: each topic's threshold and cap, best first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from paperradar.profiles.profile import Profile
from paperradar.store.records import Match


@dataclass(frozen=True)
class Pick:
    """A paper chosen for a topic: shown under its best topic, with its other hits alongside."""

    topic: str
    rank: int
    match: Match
    also: tuple[Match, ...] = ()


def best_first(matches: Sequence[Match]) -> list[Match]:
    """Order matches best first (ties by paper id, so the order is stable)."""
    return sorted(matches, key=lambda match: (-match.score, match.paper_id))


def select_picks(matches: Sequence[Match], profile: Profile) -> list[Pick]:
    """Choose a profile's picks: above each topic's minimum, under the paper's best topic, capped.

    A paper that clears several topics appears once, under the topic where its percent is
    highest; the other topics it hits travel with it so renderers can say so.
    """
    qualifying: dict[str, list[Match]] = {}
    seed_ids = profile.seed_ids
    for match in matches:
        topic = profile.topics.get(match.topic)
        if match.profile != profile.name or topic is None or match.percent < topic.min_percent:
            continue
        if match.paper_id in seed_ids:
            continue
        qualifying.setdefault(match.paper_id, []).append(match)
    by_topic: dict[str, list[tuple[Match, tuple[Match, ...]]]] = {key: [] for key in profile.topics}
    for paper_matches in qualifying.values():
        best, *others = sorted(paper_matches, key=lambda match: (-match.percent, -match.score))
        by_topic[best.topic].append((best, tuple(others)))
    picks: list[Pick] = []
    for key, topic in profile.topics.items():
        ranked = sorted(by_topic[key], key=lambda entry: (-entry[0].score, entry[0].paper_id))
        for rank, (match, also) in enumerate(ranked[: topic.max_picks], start=1):
            picks.append(Pick(topic=key, rank=rank, match=match, also=also))
    return picks


def day_matches(session: Session, profile: Profile, day: date) -> list[Match]:
    """Load a profile's matches of one day."""
    return list(
        session.exec(select(Match).where(Match.profile == profile.name, Match.day == day)).all()
    )
