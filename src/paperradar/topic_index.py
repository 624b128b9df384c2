"""TopicIndex: a topic's hybrid lexical + dense evidence, combined into one score (pure).

A topic's score is a fixed weighted sum of five kinds of evidence, each on a fixed [0, 1] scale:
BM25 of the topic's text, the topic's keyword phrases found in title and abstract, and cosine
closeness (FAISS inner product of unit vectors) to its description, to its keywords and to the
seed papers routed to it. The percent is the score times 100, so it means the same on every day
(only idf comes from the day's papers): on ../shared/bench, the papers that curated lists file
under a topic score a median of 50-57%, while 99% of all papers score below 30-54% (by topic).
A topic with readers' votes blends that cold score with a classifier learned from them
(learning.py); the blend is in [0, 1] too, and the profile's text keeps at least half the say.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import faiss
import numpy as np

from paperradar.embeddings import paper_text
from paperradar.learning import Votes, fit_topic_model
from paperradar.lexical import LexicalIndex, has_phrase, saturate, tokenize
from paperradar.profiles import Profile, Topic

logger = logging.getLogger(__name__)

Embed = Callable[[Sequence[str]], np.ndarray]

# The weights of the evidence, summing to 1; chosen on ../shared/bench with bench/ranking.py.
# Every setting near these (lexical 0.5-0.65, dense 0.35-0.5) scored within noise of them.
WEIGHTS = {
    "bm25": 0.35,
    "keywords": 0.25,
    "description": 0.20,
    "keyword_anchors": 0.10,
    "seeds": 0.10,
}
# Half-saturation points: BM25 as a share of the query's own weight, and idf-weighted phrases.
BM25_HALF = 0.10
KEYWORD_HALF = 10.0
# A keyword phrase in the title counts this many times one only in the abstract.
TITLE_WEIGHT = 3.0
# Cosines mapped linearly onto [0, 1]: paper-to-text and paper-to-paper similarity differ in scale.
TEXT_COSINE = (0.25, 0.75)
SEED_COSINE = (0.35, 0.85)
# A seed supports a topic when one of its keyword phrases is in the seed's title, or when the seed
# is this many standard deviations closer to the topic's description than the typical paper.
ROUTE_Z = 2.5
ROUTE_MIN_BACKGROUND = 20
# Reasons quote at most this many matched keywords.
REASON_KEYWORDS = 3
# Match rows kept per topic and day: those above the topic's minimum, at most this many
# times its `max_picks` (the digest's cap), so the table does not grow by candidates x topics.
KEEP_PICKS_FACTOR = 3


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


def percent_of(score: float) -> int:
    """Map a score in [0, 1] onto a whole percent (monotone, and the same on every day)."""
    return int(min(100, max(0, round(score * 100))))


def distinct_phrases(keywords: Sequence[str]) -> tuple[str, ...]:
    """Keep one keyword per token sequence: `long context` and `long-context` are one phrase."""
    seen: dict[tuple[str, ...], str] = {}
    for keyword in keywords:
        seen.setdefault(tuple(tokenize(keyword)), keyword)
    return tuple(keyword for words, keyword in seen.items() if words)


def topic_query(topic: Topic) -> str:
    """The free text a topic is searched with by BM25: its title, description and keywords."""
    return " ".join([topic.title, topic.description, *topic.keywords])


def _scaled(cosine: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    low, high = bounds
    scaled: np.ndarray = np.clip((cosine - low) / (high - low), 0.0, 1.0)
    return scaled


@dataclass(frozen=True)
class TopicAnchors:
    """One topic's phrases, query and dense anchors (description, keywords, routed seeds)."""

    key: str
    query: str
    phrases: tuple[str, ...]
    description: np.ndarray
    keyword_vectors: np.ndarray
    seed_ids: tuple[str, ...]
    seed_vectors: np.ndarray

    @property
    def vectors(self) -> np.ndarray:
        """The dense anchors stacked: description, keyword phrases, seeds."""
        stacked: np.ndarray = np.vstack(
            [self.description[None, :], self.keyword_vectors, self.seed_vectors]
        )
        return stacked

    def similarities(self, vectors: np.ndarray) -> np.ndarray:
        """Cosine of each paper (row) to each anchor (column: description, keywords, seeds)."""
        anchors = self.vectors
        index = faiss.IndexFlatIP(anchors.shape[1])
        index.add(np.ascontiguousarray(anchors, dtype=np.float32))
        scores, ids = index.search(np.ascontiguousarray(vectors, dtype=np.float32), len(anchors))
        full: np.ndarray = np.empty_like(scores)
        np.put_along_axis(full, ids, scores, axis=1)
        return full


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
        routes[seed.paper_id] = tuple(
            key
            for (key, topic), z in zip(profile.topics.items(), row, strict=True)
            if z >= ROUTE_Z or any(has_phrase(seed.title, kw) for kw in topic.keywords)
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
        kept = [
            row
            for row, paper in enumerate(pool.papers)
            if paper.paper_id not in self.profile.seed_ids
        ]
        if not kept:
            return []
        matches: list[ScoredMatch] = []
        for anchors in self.topics:
            evidence = topic_evidence(anchors, pool.lexical, pool.vectors)
            topic_votes = (votes or {}).get(anchors.key)
            model = topic_votes and fit_topic_model(
                topic_votes, anchors=anchors.vectors, candidates=pool.vectors
            )
            scores = model.blend(evidence.score, pool.vectors) if model else evidence.score
            learned = f"; learned from {model.votes} vote(s)" if model else ""
            for row in kept:
                score = float(scores[row])
                reason = evidence.reason(row) + learned
                matches.append(
                    ScoredMatch(
                        pool.papers[row].paper_id, anchors.key, score, percent_of(score), reason
                    )
                )
        order = {key: position for position, key in enumerate(self.profile.topics)}
        return sorted(matches, key=lambda m: (order[m.topic], -m.score, m.paper_id))


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


@dataclass(frozen=True)
class Evidence:
    """One topic's evidence over the candidates: each array holds one value per candidate."""

    anchors: TopicAnchors
    score: np.ndarray  # the WEIGHTS-weighted sum of the components, in [0, 1]
    similarities: np.ndarray  # candidates x (description, keywords..., seeds...)
    found: list[list[str]]  # per candidate, the keyword phrases found, strongest first

    def reason(self, row: int) -> str:
        """Name the closest of the description and the seeds, then the keyword phrases found.

        Keyword anchors count towards the score as a mean, so no single one is named; the
        phrases found in the paper's text are.
        """
        anchors, cosines = self.anchors, self.similarities[row]
        seeds = cosines[1 + len(anchors.phrases) :]
        label, cosine = "the topic description", float(cosines[0])
        if len(seeds):
            best = int(np.argmax(seeds))
            if _scaled(seeds[best], SEED_COSINE) > _scaled(cosines[0], TEXT_COSINE):
                label, cosine = f"seed {anchors.seed_ids[best]}", float(seeds[best])
        text = f"closest to {label} ({cosine:.2f})"
        found = self.found[row][:REASON_KEYWORDS]
        return f"{text}; keywords: {', '.join(found)}" if found else text


def topic_evidence(anchors: TopicAnchors, lexical: LexicalIndex, vectors: np.ndarray) -> Evidence:
    """Gather a topic's lexical and dense evidence for every candidate."""
    phrase_weight = np.zeros(lexical.size)
    strengths: list[list[tuple[float, str]]] = [[] for _ in range(lexical.size)]
    for phrase in anchors.phrases:
        hits = lexical.phrase_hits(phrase)
        weight = hits.idf * np.where(hits.in_title, TITLE_WEIGHT, 1.0) * (hits.count > 0)
        phrase_weight += weight
        for row in np.flatnonzero(weight):
            strengths[row].append((float(weight[row]), phrase))
    sims = anchors.similarities(vectors)
    keywords = len(anchors.phrases)
    keyword_sims = sims[:, 1 : 1 + keywords]
    seed_sims = sims[:, 1 + keywords :]
    components = {
        "bm25": saturate(lexical.bm25_share(anchors.query), BM25_HALF),
        "keywords": saturate(phrase_weight, KEYWORD_HALF),
        "description": _scaled(sims[:, 0], TEXT_COSINE),
        "keyword_anchors": _scaled(keyword_sims.mean(axis=1), TEXT_COSINE)
        if keywords
        else np.zeros(lexical.size),
        "seeds": _scaled(seed_sims.max(axis=1), SEED_COSINE)
        if seed_sims.shape[1]
        else np.zeros(lexical.size),
    }
    score = np.zeros(lexical.size)
    for name, values in components.items():
        score += WEIGHTS[name] * values
    found = [
        [phrase for _, phrase in sorted(row, key=lambda s: (-s[0], s[1]))] for row in strengths
    ]
    return Evidence(anchors, score, sims, found)


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
