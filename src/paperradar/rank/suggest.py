"""Active learning: the papers of a day whose 👍/👎 would teach a topic the most."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, func, select

from paperradar.embed.embeddings import Embedder
from paperradar.profiles.profile import Profile
from paperradar.rank.calibration import score_at
from paperradar.rank.index import ScoredMatch, best_first
from paperradar.rank.learning import suggest_votes
from paperradar.rank.stage import candidates_of, score_candidates
from paperradar.readers.feedback import topic_votes
from paperradar.store.records import Paper


def latest_day(session: Session) -> date | None:
    """The latest announcement day with candidates."""
    return session.exec(select(func.max(Paper.first_announced_on))).one()


def suggest(
    session: Session, embedder: Embedder, profile: Profile, day: date, *, count: int
) -> dict[str, list[ScoredMatch]]:
    """Per topic, the day's unvoted papers scored nearest the topic's cutoff, best first.

    A topic is least sure about the papers scored near its `min_percent` (the score where the
    calibrated percent reaches it): a vote there moves the cutoff where it matters.
    """
    papers = session.exec(
        select(Paper).where(Paper.first_announced_on == day).order_by(col(Paper.arxiv_id))
    ).all()
    if not papers:
        return {}
    votes = topic_votes(session, profile.name)
    voted = {topic: set(entry.liked) | set(entry.disliked) for topic, entry in votes.items()}
    matches = [
        match
        for match in score_candidates(
            session, embedder, profile, candidates_of(session, embedder.model_name, papers)
        )
        if match.paper_id not in voted.get(match.topic, set())
    ]
    thresholds = {key: score_at(topic.min_percent) for key, topic in profile.topics.items()}
    chosen = suggest_votes(matches, thresholds, count=count)
    by_key = {(match.topic, match.paper_id): match for match in matches}
    return {
        topic: best_first(by_key[topic, paper_id] for paper_id in ids)
        for topic, ids in chosen.items()
    }
