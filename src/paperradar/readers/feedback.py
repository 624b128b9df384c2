"""Readers' 👍/👎 on picks: the ≤ 64-byte button codec, Feedback rows, and votes per topic."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from sqlmodel import Session, col, select

from paperradar.errors import PaperRadarError
from paperradar.store.records import Feedback, Match, Paper, utc_now

# Telegram allows 1-64 bytes of callback data; a Match id (a paper under one topic) keeps it
# short whatever the topic key.
CALLBACK_LIMIT = 64
CALLBACK_PATTERN = r"^fb:[+-]:\d{1,18}$"
_CALLBACK = re.compile(CALLBACK_PATTERN)
UP = 1
DOWN = -1


class FeedbackError(PaperRadarError):
    """A vote names an unknown pick, paper or topic, or comes from a chat it was not sent to."""


@dataclass(frozen=True)
class Vote:
    """A button press decoded: which match (a paper under one topic), and up (+1) or down (-1)."""

    match_id: int
    value: int


@dataclass(frozen=True)
class TopicVotes:
    """The papers readers liked and disliked for one topic (net of everyone's votes)."""

    liked: tuple[str, ...]
    disliked: tuple[str, ...]


def encode(match_id: int, value: int) -> str:
    """Encode a vote on a picked match as button callback data (`fb:+:123`)."""
    if value not in (UP, DOWN) or match_id < 0:
        raise ValueError(f"not a vote: match {match_id}, value {value}")
    data = f"fb:{'+' if value == UP else '-'}:{match_id}"
    if len(data.encode("utf-8")) > CALLBACK_LIMIT:
        raise ValueError(f"callback data over {CALLBACK_LIMIT} bytes: {data}")
    return data


def decode(data: str) -> Vote:
    """Decode button callback data made by `encode`; FeedbackError for anything else."""
    if not _CALLBACK.match(data):
        raise FeedbackError(f"not a feedback button: {data[:CALLBACK_LIMIT]!r}")
    _, sign, match_id = data.split(":")
    return Vote(match_id=int(match_id), value=UP if sign == "+" else DOWN)


def set_feedback(
    session: Session,
    *,
    paper_id: str,
    profile: str,
    topic: str,
    value: int,
    channel: str,
    user_id: str,
    chat: str | None = None,
) -> Feedback:
    """Record (or change) one reader's vote on a paper for a topic."""
    if value not in (UP, DOWN):
        raise FeedbackError(f"a vote is +1 or -1, not {value}")
    if session.get(Paper, paper_id) is None:
        raise FeedbackError(f"no stored paper {paper_id}")
    row = session.exec(
        select(Feedback).where(
            Feedback.paper_id == paper_id,
            Feedback.profile == profile,
            Feedback.topic == topic,
            Feedback.user_id == user_id,
        )
    ).first()
    if row is None:
        row = Feedback(
            paper_id=paper_id,
            profile=profile,
            topic=topic,
            user_id=user_id,
            value=0,
            channel=channel,
        )
    row.value, row.channel, row.chat, row.updated_at = value, channel, chat, utc_now()
    session.add(row)
    session.flush()
    return row


def record_vote(
    session: Session,
    vote: Vote,
    *,
    channel: str,
    user_id: str,
    chat: str | None,
    allowed_profiles: Collection[str],
) -> Feedback:
    """Record a button vote, if the pick it is under belongs to a digest this chat receives."""
    match = session.get(Match, vote.match_id)
    if match is None or match.profile not in allowed_profiles:
        raise FeedbackError(f"pick {vote.match_id} was not sent to this chat")
    return set_feedback(
        session,
        paper_id=match.paper_id,
        profile=match.profile,
        topic=match.topic,
        value=vote.value,
        channel=channel,
        user_id=user_id,
        chat=chat,
    )


# The order votes are read in: the ranking learns from a topic's newest ones.
_NEWEST_FIRST = (col(Feedback.updated_at).desc(), col(Feedback.id).desc())


def list_feedback(session: Session, *, profile: str | None = None) -> list[Feedback]:
    """Return votes, newest first, optionally of one profile."""
    query = select(Feedback).order_by(*_NEWEST_FIRST)
    if profile is not None:
        query = query.where(Feedback.profile == profile)
    return list(session.exec(query).all())


def topic_votes(session: Session, profile: str) -> dict[str, TopicVotes]:
    """Return, per topic of a profile, the papers with a net 👍 and a net 👎, newest vote first."""
    totals: dict[str, dict[str, int]] = {}
    # Only the three columns: every scoring run reads every vote of the profile.
    rows = session.exec(
        select(Feedback.topic, Feedback.paper_id, Feedback.value)
        .where(Feedback.profile == profile)
        .order_by(*_NEWEST_FIRST)
    )
    for topic, paper_id, value in rows:
        papers = totals.setdefault(topic, {})
        papers[paper_id] = papers.get(paper_id, 0) + value
    return {
        topic: TopicVotes(
            liked=tuple(paper for paper, net in papers.items() if net > 0),
            disliked=tuple(paper for paper, net in papers.items() if net < 0),
        )
        for topic, papers in totals.items()
    }
