"""A topic's evidence over the candidates: lexical and dense, each on a fixed [0, 1] scale (pure).

Five kinds of evidence, combined by a fixed weighted sum: BM25 of the topic's text, the topic's
keyword phrases found in title and abstract, and cosine closeness (FAISS inner product of unit
vectors) to its description, to its keywords and to the seed papers routed to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import faiss
import numpy as np

from paperradar.profiles.profile import Topic
from paperradar.rank.lexical import LexicalIndex, saturate, tokenize
from paperradar.rank.reasons import MatchReason

# The weights of the evidence, summing to 1; chosen on the development set with bench/ranking.py.
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
# A one-word keyword ("merge", "evolve") is no topic on its own: "token merging" is not model
# merging. Its weight counts in full only in a paper this close to the topic's description
# (scaled closeness, as the description's own evidence), and in proportion below.
ONE_WORD_SUPPORT = 0.2
# Reasons quote at most this many matched keywords.
REASON_KEYWORDS = 3


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

    def without_seeds(self, paper_ids: Iterable[str]) -> TopicAnchors:
        """The same anchors less some seed papers."""
        dropped = set(paper_ids)
        kept = [i for i, seed in enumerate(self.seed_ids) if seed not in dropped]
        return replace(
            self,
            seed_ids=tuple(self.seed_ids[i] for i in kept),
            seed_vectors=self.seed_vectors[kept],
        )

    def similarities(self, vectors: np.ndarray) -> np.ndarray:
        """Cosine of each paper (row) to each anchor (column: description, keywords, seeds)."""
        # Every pair is wanted: an index search for all anchors would also sort each row.
        full: np.ndarray = faiss.pairwise_distances(
            np.ascontiguousarray(vectors, dtype=np.float32),
            np.ascontiguousarray(self.vectors, dtype=np.float32),
            metric=faiss.METRIC_INNER_PRODUCT,
        )
        return full


@dataclass(frozen=True)
class Evidence:
    """One topic's evidence over the candidates: each array holds one value per candidate."""

    anchors: TopicAnchors
    score: np.ndarray  # the WEIGHTS-weighted sum of the components, in [0, 1]
    components: np.ndarray  # candidates x WEIGHTS' kinds, each in [0, 1]
    similarities: np.ndarray  # candidates x (description, keywords..., seeds...)
    found: list[list[str]]  # per candidate, the keyword phrases found, strongest first

    def reason(self, row: int) -> MatchReason:
        """The phrases found, and the seed paper when it is closer than the description.

        Keyword anchors count towards the score as a mean, so no single one is named; the
        phrases found in the paper's text are.
        """
        return MatchReason(phrases=tuple(self.found[row][:REASON_KEYWORDS]), seed=self._seeds[row])

    @cached_property
    def _seeds(self) -> list[str | None]:
        """Per candidate, its closest routed seed where that is closer than the description."""
        keywords = 1 + len(self.anchors.phrases)
        seeds = self.similarities[:, keywords:]
        if not seeds.shape[1]:
            return [None] * len(self.similarities)
        best = seeds.argmax(axis=1)
        closer = _scaled(seeds.max(axis=1), SEED_COSINE) > _scaled(
            self.similarities[:, 0], TEXT_COSINE
        )
        return [
            self.anchors.seed_ids[column] if wins else None
            for column, wins in zip(best.tolist(), closer.tolist(), strict=True)
        ]


def topic_evidence(anchors: TopicAnchors, lexical: LexicalIndex, vectors: np.ndarray) -> Evidence:
    """Gather a topic's lexical and dense evidence for every candidate."""
    sims = anchors.similarities(vectors)
    description = _scaled(sims[:, 0], TEXT_COSINE)
    one_word_share = np.clip(description / ONE_WORD_SUPPORT, 0.0, 1.0)
    phrase_weight = np.zeros(lexical.size)
    strengths: list[list[tuple[float, str]]] = [[] for _ in range(lexical.size)]
    for phrase in anchors.phrases:
        hits = lexical.phrase_hits(phrase)
        weight = hits.idf * np.where(hits.in_title, TITLE_WEIGHT, 1.0) * (hits.count > 0)
        if len(tokenize(phrase)) == 1:
            weight = weight * one_word_share
        phrase_weight += weight
        for row in np.flatnonzero(weight):
            strengths[row].append((float(weight[row]), phrase))
    keywords = len(anchors.phrases)
    keyword_sims = sims[:, 1 : 1 + keywords]
    seed_sims = sims[:, 1 + keywords :]
    components = {
        "bm25": saturate(lexical.bm25_share(anchors.query), BM25_HALF),
        "keywords": saturate(phrase_weight, KEYWORD_HALF),
        "description": description,
        "keyword_anchors": _scaled(keyword_sims.mean(axis=1), TEXT_COSINE)
        if keywords
        else np.zeros(lexical.size),
        "seeds": _scaled(seed_sims.max(axis=1), SEED_COSINE)
        if seed_sims.shape[1]
        else np.zeros(lexical.size),
    }
    matrix = np.stack([components[name] for name in WEIGHTS], axis=1)
    score = matrix @ np.array(list(WEIGHTS.values()))
    found = [
        [phrase for _, phrase in sorted(row, key=lambda s: (-s[0], s[1]))] for row in strengths
    ]
    return Evidence(anchors, score, matrix, sims, found)
