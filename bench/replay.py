"""Replay the development days in order with a reader who votes on each day's digest.

Each day the profile scores the day's papers (the score stage's path: `TopicIndex.match`, idf
from the day) with the votes cast so far, the digest's picks are chosen as shipped
(`select_picks`: each topic's `min_percent` and `max_picks`, a paper under its best topic), and
the reader votes on them: 👍 when a curated list names the paper for the topic, 👎 otherwise. The
noisy reader votes on 70 % of the picks and flips 10 % of its votes (seeded). The curve freezes
each topic's model after its first k votes and scores every day after the day of the k-th vote,
with cold PaperRadar and BM25 on the same days, so no scored day ever taught the model.

The lists name only some of a topic's papers, and which ones is not something a paper's text
tells (a classifier trained on every listed paper of half the days gains little on the other
half), so a reader whose taste is consistent is replayed too: within each topic they want only
the papers on one narrower question (`TASTES`), and score that on every day.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from peers import bm25_ranking
from sqlalchemy import Engine
from sqlmodel import col, delete

from paperradar.embed.embeddings import Embedder
from paperradar.profiles.profile import Profile
from paperradar.rank.index import CandidatePool, PaperVector, ScoredMatch
from paperradar.rank.picks import select_picks
from paperradar.rank.stage import score_candidates
from paperradar.readers.feedback import set_feedback
from paperradar.readers.topics import with_liked_papers
from paperradar.store.db import session_scope
from paperradar.store.records import Feedback, Match

Row = Mapping[str, object]
CHECKPOINTS = (10, 20, 50, 100)


@dataclass(frozen=True)
class Day:
    """One announcement day: its papers, their ids and its candidate pool."""

    date: str
    ids: tuple[str, ...]
    rows: tuple[Row, ...]
    pool: CandidatePool


@dataclass(frozen=True)
class Reader:
    """Votes on picks by the labels: on `rate` of them, flipping `flip` of its votes."""

    name: str
    rate: float = 1.0
    flip: float = 0.0
    seed: int = 16

    def vote(self, rng: random.Random, liked: bool) -> int | None:
        """The reader's vote on one pick, or None when they skip it."""
        if rng.random() >= self.rate:
            return None
        flipped = rng.random() < self.flip
        return 1 if liked != flipped else -1


CLEAN = Reader("clean")
NOISY = Reader("noisy", rate=0.7, flip=0.1)
# The consistent reader's narrower question per topic, a pattern over title and abstract, among
# the papers the cold ranker gives at least TASTE_PERCENT (on the topic, roughly).
TASTES = {
    "model_merging": r"\b(llms?|large language models?)\b",
    "self_evolution": r"\bagent",
    "long_context": r"\bagent",
}
TASTE_PERCENT = 25


@dataclass
class Stream:
    """One topic's votes in the order cast, with the day of each."""

    papers: list[str] = field(default_factory=list)
    values: list[int] = field(default_factory=list)
    days: list[str] = field(default_factory=list)


def build_days(rows: Sequence[Row], vectors: np.ndarray) -> list[Day]:
    """Group the pool's papers by announcement day and index each day."""
    by_day: dict[str, list[int]] = {}
    for position, row in enumerate(rows):
        by_day.setdefault(str(row["date"]), []).append(position)
    days = []
    for date, positions in sorted(by_day.items()):
        papers = [
            PaperVector(
                str(rows[i]["id"]), str(rows[i]["title"]), str(rows[i]["abstract"]), vectors[i]
            )
            for i in positions
        ]
        days.append(
            Day(
                date,
                tuple(p.paper_id for p in papers),
                tuple(rows[i] for i in positions),
                CandidatePool.of(papers),
            )
        )
    return days


def rankings(matches: Sequence[ScoredMatch], profile: Profile) -> dict[str, list[str]]:
    """Each topic's papers best first (match returns them sorted by topic, then score)."""
    ranked: dict[str, list[str]] = {key: [] for key in profile.topics}
    for match in matches:
        ranked[match.topic].append(match.paper_id)
    return ranked


def picks_of(matches: Sequence[ScoredMatch], profile: Profile, day: str) -> list[tuple[str, str]]:
    """The digest's picks as shipped: (topic, paper) for each."""
    rows = [
        Match(
            paper_id=m.paper_id,
            profile=profile.name,
            topic=m.topic,
            day=day,
            score=m.score,
            percent=m.percent,
            reason="",
        )
        for m in matches
    ]
    return [(pick.topic, pick.match.paper_id) for pick in select_picks(rows, profile)]


@dataclass(frozen=True)
class Scorer:
    """The score stage's path for a bench profile whose votes are Feedback rows.

    As in the pipeline, a topic's 👍 papers become seeds routed to it (`with_liked_papers`) and
    its votes train its model (`score_candidates` loads them).
    """

    engine: Engine
    embedder: Embedder
    profile: Profile

    def reset(self, name: str) -> None:
        """Forget every vote of a bench profile."""
        with session_scope(self.engine) as session:
            session.exec(delete(Feedback).where(col(Feedback.profile) == name))  # type: ignore[call-overload]

    def vote(self, name: str, votes: Sequence[tuple[str, str, int]]) -> None:
        """Record (topic, paper, value) votes of a bench profile."""
        with session_scope(self.engine) as session:
            for topic, paper, value in votes:
                set_feedback(
                    session,
                    paper_id=paper,
                    profile=name,
                    topic=topic,
                    value=value,
                    channel="bench",
                    user_id="bench",
                )

    def score(self, name: str, pool: CandidatePool) -> list[ScoredMatch]:
        """Score a day for the bench profile `name` with its votes so far."""
        with session_scope(self.engine) as session:
            voting = with_liked_papers(session, self.profile.model_copy(update={"name": name}))
            return score_candidates(session, self.embedder, voting, pool)


@dataclass
class Replay:
    """A reader's pass over the days: their votes and the live ranking of every day."""

    streams: dict[str, Stream]
    live: dict[str, dict[str, list[str]]]  # day -> topic -> ranking with the votes so far
    picks_per_day: float
    seconds_per_day: float


def replay(
    scorer: Scorer, days: Sequence[Day], labels: Mapping[str, set[str]], reader: Reader
) -> Replay:
    """Score each day with the votes so far, show its picks, record the reader's votes."""
    rng = random.Random(reader.seed)
    profile, name = scorer.profile, f"bench-{reader.name}"
    scorer.reset(name)
    streams = {key: Stream() for key in profile.topics}
    live, picks, started = {}, 0, time.perf_counter()
    for day in days:
        matches = scorer.score(name, day.pool)
        live[day.date] = rankings(matches, profile)
        cast = []
        for topic, paper in picks_of(matches, profile, day.date):
            picks += 1
            value = reader.vote(rng, paper in labels[topic])
            if value is not None:
                cast.append((topic, paper, value))
                stream = streams[topic]
                stream.papers.append(paper)
                stream.values.append(value)
                stream.days.append(day.date)
        scorer.vote(name, cast)
    seconds = (time.perf_counter() - started) / len(days)
    return Replay(streams, live, picks / len(days), seconds)


def day_ndcg(ranked: Sequence[str], positives: set[str]) -> float | None:
    """Binary nDCG@10 of one day's ranking (None on a day without positives), as eval.py."""
    wanted = positives.intersection(ranked)
    if not wanted:
        return None
    gains = np.array([paper in wanted for paper in ranked[:10]], dtype=float)
    discounts = 1.0 / np.log2(np.arange(2, 12))
    ideal = discounts[: min(len(wanted), 10)].sum()
    return float((gains * discounts[: len(gains)]).sum() / ideal)


def mean_ndcg(by_day: Mapping[str, Sequence[str]], days: Sequence[str], positives: set[str]):  # type: ignore[no-untyped-def]
    """Mean per-day nDCG@10 over those of `days` that have a positive, and how many they are."""
    scores = [s for d in days if (s := day_ndcg(by_day[d], positives)) is not None]
    return (float(np.mean(scores)) if scores else float("nan")), len(scores)


def curve(
    scorer: Scorer,
    days: Sequence[Day],
    labels: Mapping[str, set[str]],
    run: Replay,
    baselines: Mapping[str, Mapping[str, dict[str, list[str]]]],
) -> dict[int, dict[str, dict[str, float]]]:
    """Per checkpoint and topic: days scored, cold, BM25 and learned per-day nDCG@10."""
    points: dict[int, dict[str, dict[str, float]]] = {0: {}}
    for topic in scorer.profile.topics:
        every = [d.date for d in days]
        cold, n = mean_ndcg(
            {d: r[topic] for d, r in baselines["cold"].items()}, every, labels[topic]
        )
        bm25, _ = mean_ndcg(
            {d: r[topic] for d, r in baselines["BM25"].items()}, every, labels[topic]
        )
        points[0][topic] = {"days": n, "cold": cold, "BM25": bm25, "learned": cold}
    for k in CHECKPOINTS:
        name, points[k] = f"bench-k{k}", {}
        scorer.reset(name)
        reached = {t: s for t, s in run.streams.items() if len(s.papers) >= k}
        scorer.vote(
            name, [(t, s.papers[i], s.values[i]) for t, s in reached.items() for i in range(k)]
        )
        first = min((s.days[k - 1] for s in reached.values()), default=None)
        learned = {
            d.date: rankings(scorer.score(name, d.pool), scorer.profile)
            for d in days
            if first and d.date > first
        }
        for topic, stream in reached.items():
            after = [d for d in learned if d > stream.days[k - 1]]
            if not after:
                continue
            result = {
                system: mean_ndcg({d: by_day[d][topic] for d in after}, after, labels[topic])
                for system, by_day in (*baselines.items(), ("learned", learned))
            }
            points[k][topic] = {"days": result["cold"][1], **{s: v[0] for s, v in result.items()}}
        scorer.reset(name)
    return points


ColdMatches = Mapping[str, Sequence[ScoredMatch]]  # day -> the day scored without votes


def cold_matches(scorer: Scorer, days: Sequence[Day]) -> dict[str, list[ScoredMatch]]:
    """Score every day without votes, once for every measure that needs the cold scores."""
    scorer.reset("bench-cold")
    return {day.date: scorer.score("bench-cold", day.pool) for day in days}


def taste_labels(
    profile: Profile, days: Sequence[Day], cold: ColdMatches, tastes: Mapping[str, str] = TASTES
) -> dict[str, set[str]]:
    """The consistent reader's papers: on the topic (cold) and on its narrower question."""
    patterns = {topic: re.compile(pattern, re.IGNORECASE) for topic, pattern in tastes.items()}
    labels: dict[str, set[str]] = {topic: set() for topic in profile.topics}
    for day in days:
        text = {p.paper_id: f"{p.title} {p.abstract}" for p in day.pool.papers}
        for match in cold[day.date]:
            pattern = patterns.get(match.topic)
            if match.percent >= TASTE_PERCENT and pattern and pattern.search(text[match.paper_id]):
                labels[match.topic].add(match.paper_id)
    return labels


def list_ceiling(
    profile: Profile, days: Sequence[Day], cold: ColdMatches, labels: Mapping[str, set[str]]
) -> dict[str, tuple[int, float, float]]:
    """How much the lists' choices can be learned at all, with far more than a reader's votes.

    Per topic, a logistic regression on every paper of the first half of the days (its vector and
    cold score; positives: the papers a list names) ranks the second half's days. Returns, per
    topic: the positives it learned from, cold and learned per-day nDCG@10 on the second half.
    """
    from sklearn.linear_model import LogisticRegression

    half = len(days) // 2
    scored = [cold[day.date] for day in days]
    result = {}
    for topic in profile.topics:
        features, targets = [], []
        for day, matches in zip(days, scored, strict=True):
            score = {m.paper_id: m.score for m in matches if m.topic == topic}
            rows = [i for i, paper in enumerate(day.ids) if paper in score]
            cold = np.array([score[day.ids[i]] for i in rows])
            features.append(np.hstack([day.pool.vectors[rows], cold[:, None]]))
            targets.append(np.array([day.ids[i] in labels[topic] for i in rows]))
        model = LogisticRegression(C=1.0, max_iter=3000, class_weight="balanced")
        model.fit(np.vstack(features[:half]), np.concatenate(targets[:half]))
        later = [d.date for d in days[half:]]
        learned, cold_rank = {}, {}
        for day, matches, X in zip(days[half:], scored[half:], features[half:], strict=True):
            ids = [m.paper_id for m in matches if m.topic == topic]
            order = {paper: i for i, paper in enumerate(day.ids)}
            ids = sorted(ids, key=order.__getitem__)
            decision = model.decision_function(X)
            learned[day.date] = [ids[i] for i in np.argsort(-decision, kind="stable")]
            cold_rank[day.date] = [m.paper_id for m in matches if m.topic == topic]
        cold_ndcg, _ = mean_ndcg(cold_rank, later, labels[topic])
        learned_ndcg, _ = mean_ndcg(learned, later, labels[topic])
        result[topic] = (int(np.concatenate(targets[:half]).sum()), cold_ndcg, learned_ndcg)
    return result


def baseline_rankings(
    profile: Profile, days: Sequence[Day], cold: ColdMatches
) -> dict[str, dict[str, dict[str, list[str]]]]:
    """Cold PaperRadar and BM25 per day and topic."""
    return {
        "cold": {d.date: rankings(cold[d.date], profile) for d in days},
        "BM25": {d.date: bm25_ranking(d.rows, profile) for d in days},
    }


def curve_table(points: Mapping[int, Mapping[str, Mapping[str, float]]], reader: str) -> str:
    """Lay the curve out: per checkpoint, each topic's and the mean's per-day nDCG@10."""
    head = f"{'votes':>5s} {'topic':15s} {'days':>4s} {'cold':>6s} {'BM25':>6s} {'learned':>7s}"
    lines = [f"{reader} reader", head + f" {'Δ cold':>7s}", "-" * (len(head) + 8)]
    for k, topics in points.items():
        for topic, p in topics.items():
            delta = p["learned"] - p["cold"]
            lines.append(
                f"{k:5d} {topic:15s} {int(p['days']):4d} {p['cold']:6.3f} {p['BM25']:6.3f} "
                f"{p['learned']:7.3f} {delta:+7.3f}"
            )
        if len(topics) == 3:
            mean = {
                m: float(np.mean([p[m] for p in topics.values()]))
                for m in ("cold", "BM25", "learned")
            }
            lines.append(
                f"{k:5d} {'mean':15s} {'':4s} {mean['cold']:6.3f} {mean['BM25']:6.3f} "
                f"{mean['learned']:7.3f} {mean['learned'] - mean['cold']:+7.3f}"
            )
    return "\n".join(lines)
