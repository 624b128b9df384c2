"""TopicIndex: a profile's topics, their routed seeds, and one calibrated score per candidate.

A topic's score is the weighted sum of its evidence (evidence.py), each kind on a fixed [0, 1]
scale, so it means the same on every day (only idf comes from the day's papers). The percent
readers see is the estimated chance that the paper is on the topic, a monotone map of the score
fitted on the development set (calibration.py). A topic with readers' votes shifts that cold
score by what it learned from them (learning.py); the learned score is in [0, 1] too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from paperradar.profiles.profile import Profile
from paperradar.rank.calibration import shipped_calibration
from paperradar.rank.evidence import (
    Evidence,
    TopicAnchors,
    distinct_phrases,
    topic_evidence,
    topic_query,
)
from paperradar.rank.learning import Scored, TopicModel, Votes, fit_topic_model
from paperradar.rank.lexical import LexicalIndex, has_phrase, tokenize
from paperradar.text import paper_text

logger = logging.getLogger(__name__)

Embed = Callable[[Sequence[str]], np.ndarray]

# A seed supports a topic when one of its keyword phrases is in the seed's title, or when the seed
# is this many standard deviations closer to the topic's description than the typical paper.
ROUTE_Z = 2.5
ROUTE_MIN_BACKGROUND = 20
# Match rows kept per topic and day: those above the topic's minimum, at most this many
# times its `max_picks` (the digest's cap), so the table does not grow by candidates x topics.
KEEP_PICKS_FACTOR = 3
# A pick is said to be "like a paper you 👍'd" from this cosine on: papers on one narrow question.
LIKED_COSINE = 0.6


@dataclass(frozen=True)
class PaperVector:
    """A paper's text and its unit vector (None for a seed whose vector must be computed)."""

    paper_id: str
    title: str
    abstract: str
    vector: np.ndarray | None = None


@dataclass(frozen=True)
class ScoredMatch:
    """One candidate scored for one topic: score in [0, 1], percent 0-100, a checkable reason."""

    paper_id: str
    topic: str
    score: float
    percent: int
    reason: str


@dataclass(frozen=True)
class CandidatePool:
    """A day's candidates with what every profile scores them by: their vectors and the lexical
    index (idf from the whole pool). Built once per scoring run and shared by every profile."""

    papers: tuple[PaperVector, ...]
    vectors: np.ndarray
    lexical: LexicalIndex

    @classmethod
    def of(cls, papers: Sequence[PaperVector]) -> CandidatePool:
        """Index candidates that all have a vector."""
        vectors = (
            np.stack([vector_of(paper) for paper in papers])
            if papers
            else np.zeros((0, 0), dtype=np.float32)
        )
        lexical = LexicalIndex([p.title for p in papers], [p.abstract for p in papers])
        return cls(papers=tuple(papers), vectors=vectors, lexical=lexical)


def route_seeds(
    profile: Profile,
    seeds: Sequence[PaperVector],
    closeness: np.ndarray,
) -> dict[str, tuple[str, ...]]:
    """Route each seed to the topics it supports; a seed's own `topics:` in the profile wins.

    Args:
        profile: the profile whose topics and seed entries decide.
        seeds: the seed papers, with text.
        closeness: per seed (row) and topic (column), how many standard deviations the seed is
            closer to the topic's description than the typical paper; NaN when unknown.
    """
    explicit = {seed.id: seed.topics for seed in profile.seed_papers if seed.topics is not None}
    routes: dict[str, tuple[str, ...]] = {}
    for seed, row in zip(seeds, closeness, strict=True):
        if seed.paper_id in explicit:
            routes[seed.paper_id] = tuple(explicit[seed.paper_id] or ())
            continue
        title = tokenize(seed.title)
        routes[seed.paper_id] = tuple(
            key
            for (key, topic), z in zip(profile.topics.items(), row, strict=True)
            if z >= ROUTE_Z or any(has_phrase(title, kw) for kw in topic.keywords)
        )
    return routes


def _closeness(seeds: np.ndarray, descriptions: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Standardise seeds' description cosines against the background papers' cosines."""
    if len(background) < ROUTE_MIN_BACKGROUND:
        return np.full((len(seeds), len(descriptions)), np.nan)
    typical = background @ descriptions.T
    spread = np.maximum(typical.std(axis=0), 1e-6)
    z: np.ndarray = (seeds @ descriptions.T - typical.mean(axis=0)) / spread
    return z


@dataclass(frozen=True)
class TopicIndex:
    """A profile's topics ready to score candidates; built once per scoring run."""

    profile: Profile
    topics: tuple[TopicAnchors, ...]
    seed_topics: dict[str, tuple[str, ...]]

    @classmethod
    def build(
        cls,
        profile: Profile,
        *,
        seeds: Sequence[PaperVector],
        embed: Embed,
        background: np.ndarray | None = None,
    ) -> TopicIndex:
        """Embed the topics' texts, route the seeds and gather each topic's anchors.

        Args:
            profile: the profile to score for.
            seeds: its seed papers; those without a vector are embedded from their text.
            embed: texts -> unit vectors, the model that embedded the candidates.
            background: vectors of typical papers (the candidates) that a seed's closeness to
                a description is judged against; with fewer than 20, seeds route by keywords only.
        """
        topics = list(profile.topics.items())
        phrases = [distinct_phrases(topic.keywords) for _, topic in topics]
        descriptions = embed([f"{topic.title}. {topic.description}" for _, topic in topics])
        keyword_texts = [
            f"{topic.title}: {p}"
            for (_, topic), ps in zip(topics, phrases, strict=True)
            for p in ps
        ]
        keyword_vectors = embed(keyword_texts) if keyword_texts else descriptions[:0]
        seed_vectors = _seed_vectors(seeds, embed, dimension=descriptions.shape[1])
        background = descriptions[:0] if background is None else background
        routes = route_seeds(profile, seeds, _closeness(seed_vectors, descriptions, background))
        anchors, start = [], 0
        for (key, topic), description, topic_phrases in zip(
            topics, descriptions, phrases, strict=True
        ):
            routed = [i for i, seed in enumerate(seeds) if key in routes[seed.paper_id]]
            anchors.append(
                TopicAnchors(
                    key=key,
                    query=topic_query(topic),
                    phrases=topic_phrases,
                    description=description,
                    keyword_vectors=keyword_vectors[start : start + len(topic_phrases)],
                    seed_ids=tuple(seeds[i].paper_id for i in routed),
                    seed_vectors=seed_vectors[routed],
                )
            )
            start += len(topic_phrases)
        return cls(profile=profile, topics=tuple(anchors), seed_topics=routes)

    def match(
        self, pool: CandidatePool, votes: Mapping[str, Votes] | None = None
    ) -> list[ScoredMatch]:
        """Score every candidate (but the profile's own seeds) for every topic, best first.

        A topic with readers' votes blends its cold score with what it learned from them.
        """
        seed_ids = self.profile.seed_ids
        kept = [row for row, paper in enumerate(pool.papers) if paper.paper_id not in seed_ids]
        if not kept:
            return []
        matches: list[ScoredMatch] = []
        for anchors in self.topics:
            evidence = topic_evidence(anchors, pool.lexical, pool.vectors)
            topic_votes = (votes or {}).get(anchors.key)
            model = _learn(anchors, pool, topic_votes) if topic_votes else None
            scores = (
                model.apply(_scored(evidence, pool.vectors), shipped_calibration())
                if model
                else evidence.score
            )
            liked = liked_neighbours(topic_votes, pool.vectors) if model else None
            percents = shipped_calibration().percents(scores)
            for row in kept:
                reason = evidence.reason(row)
                if model:
                    reason = reason.with_votes(model.votes, liked[row] if liked else None)
                matches.append(
                    ScoredMatch(
                        pool.papers[row].paper_id,
                        anchors.key,
                        float(scores[row]),
                        int(percents[row]),
                        reason.dump(),
                    )
                )
        order = {key: position for position, key in enumerate(self.profile.topics)}
        return sorted(matches, key=lambda m: (order[m.topic], -m.score, m.paper_id))


def _scored(evidence: Evidence, vectors: np.ndarray) -> Scored:
    return Scored(score=evidence.score, vectors=vectors, evidence=evidence.components)


def _learn(anchors: TopicAnchors, pool: CandidatePool, votes: Votes) -> TopicModel | None:
    """Fit a topic's model on its voted papers, scored cold as if announced with today's pool.

    The 👍 papers are seeds of the topic by now (readers/topics.py); they are left out of the
    anchors they are scored against, so a liked paper is not rated close to itself.
    """
    lexical = LexicalIndex(votes.titles, votes.abstracts, statistics=pool.lexical)
    voted = topic_evidence(anchors.without_seeds(votes.liked_ids), lexical, votes.vectors)
    slope = shipped_calibration().logit_slope
    return fit_topic_model(votes, _scored(voted, votes.vectors), slope=slope)


def liked_neighbours(votes: Votes | None, vectors: np.ndarray) -> list[str | None] | None:
    """Per candidate, the 👍'd paper it is most like, where it is close enough to say so."""
    if votes is None or not (votes.values > 0).any():
        return None
    liked = votes.values > 0
    ids = [paper for paper, up in zip(votes.paper_ids, liked, strict=True) if up]
    cosines = vectors @ votes.vectors[liked].T
    best = cosines.argmax(axis=1)
    return [
        ids[column] if cosines[row, column] >= LIKED_COSINE else None
        for row, column in enumerate(best)
    ]


def vector_of(paper: PaperVector) -> np.ndarray:
    """Return a candidate's vector; one without a vector is a bug in the caller."""
    if paper.vector is None:
        raise ValueError(f"candidate {paper.paper_id} has no vector")
    return paper.vector


def _seed_vectors(seeds: Sequence[PaperVector], embed: Embed, *, dimension: int) -> np.ndarray:
    """Return the seeds' vectors, embedding the text of those that have none."""
    missing = [i for i, seed in enumerate(seeds) if seed.vector is None]
    computed = (
        embed([paper_text(seeds[i].title, seeds[i].abstract) for i in missing]) if missing else None
    )
    vectors = np.zeros((len(seeds), dimension), dtype=np.float32)
    for i, seed in enumerate(seeds):
        if seed.vector is not None:
            vectors[i] = seed.vector
    if computed is not None:
        vectors[missing] = computed
    return vectors


def best_first(matches: Iterable[ScoredMatch]) -> list[ScoredMatch]:
    """Order one topic's matches: by score, ties by paper id (the same on every run)."""
    return sorted(matches, key=lambda m: (-m.score, m.paper_id))


def worth_keeping(matches: Sequence[ScoredMatch], profile: Profile) -> list[ScoredMatch]:
    """Keep what a digest can use: each topic's matches above its minimum, a few digests' worth."""
    kept: list[ScoredMatch] = []
    for key, topic in profile.topics.items():
        above = best_first(m for m in matches if m.topic == key and m.percent >= topic.min_percent)
        kept.extend(above[: KEEP_PICKS_FACTOR * topic.max_picks])
    return kept
