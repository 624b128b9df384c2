"""Learn each topic's taste from readers' 👍/👎: a classifier blended with the topic's cold score.

Per topic, a logistic regression on paper vectors is trained on the voted papers, with the
topic's own anchors (its description, keyword phrases and routed seeds) as extra positives and a
sample of the day's candidates as weak negatives, as Scholar Inbox trains on ratings plus random
papers. Its probability is blended into the cold score with a weight that grows with the number
of votes and never passes `MAX_WEIGHT`, so the profile's text keeps at least half the say.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression

# The learned probability's share of the score: MAX_WEIGHT * e / (e + HALF_VOTES),
# where e counts each 👍 once and each 👎 as DISLIKE_SHARE.
MAX_WEIGHT = 0.5
HALF_VOTES = 10.0
# A 👎 counts as this share of a 👍 towards the weight. 👎 fall mostly on the topic's own top
# picks and teach the classifier little about the topic: on the development set, topics with 1 👍
# and 19 👎 lost about half as much to their classifier at 0.03 as at 0.1.
DISLIKE_SHARE = 0.03
# Inverse regularisation of the classifier (inputs are unit vectors).
STRENGTH = 4.0
# Candidates sampled as weak negatives; all together weigh as much as this many votes.
BACKGROUND_SAMPLE = 1000
BACKGROUND_WEIGHT = 20.0
# An anchor of the profile weighs as much as this share of one vote.
ANCHOR_WEIGHT = 0.5


@dataclass(frozen=True)
class Votes:
    """The voted papers of one topic: their unit vectors and +1 (👍) or -1 (👎) each."""

    paper_ids: tuple[str, ...]
    vectors: np.ndarray
    values: np.ndarray

    @property
    def count(self) -> int:
        """How many votes there are."""
        return len(self.paper_ids)


@dataclass(frozen=True)
class TopicModel:
    """A topic's classifier and the share of the score it is given."""

    classifier: LogisticRegression
    votes: int
    liked: int

    @property
    def weight(self) -> float:
        """The learned probability's share of the blended score, in [0, MAX_WEIGHT)."""
        # A 👍 says what the reader wants; a 👎 only what, among close papers, they do not.
        evidence = self.liked + DISLIKE_SHARE * (self.votes - self.liked)
        return MAX_WEIGHT * evidence / (evidence + HALF_VOTES)

    def probability(self, vectors: np.ndarray) -> np.ndarray:
        """The probability that each paper (row) is one the readers want for this topic."""
        positive: np.ndarray = np.asarray(self.classifier.predict_proba(vectors))[:, 1]
        return positive

    def blend(self, cold: np.ndarray, vectors: np.ndarray) -> np.ndarray:
        """Mix the cold score with the learned probability; both are in [0, 1], so is the mix."""
        mixed: np.ndarray = (1 - self.weight) * cold + self.weight * self.probability(vectors)
        return mixed


def _background(candidates: np.ndarray) -> np.ndarray:
    """Take an evenly spaced sample of the candidates (deterministic, order-independent)."""
    if len(candidates) <= BACKGROUND_SAMPLE:
        return candidates
    # Sorted by their first coordinates, so that the sample does not depend on input order.
    order = np.lexsort(candidates[:, :4].T[::-1])
    picked = order[np.linspace(0, len(order) - 1, BACKGROUND_SAMPLE).astype(int)]
    sample: np.ndarray = candidates[np.sort(picked)]
    return sample


def fit_topic_model(
    votes: Votes, *, anchors: np.ndarray, candidates: np.ndarray
) -> TopicModel | None:
    """Train a topic's classifier on its votes, anchors and candidates; None without votes.

    Args:
        votes: the topic's voted papers.
        anchors: unit vectors of the topic's description, keyword phrases and routed seeds,
            counted as positives so that the profile's text is never forgotten.
        candidates: unit vectors of the papers being scored, sampled as weak negatives.
    """
    if votes.count == 0:
        return None
    background = _background(candidates)
    features = np.vstack([votes.vectors, anchors, background])
    labels = np.concatenate(
        [votes.values > 0, np.ones(len(anchors), bool), np.zeros(len(background), bool)]
    )
    weights = np.concatenate(
        [
            np.ones(votes.count),
            np.full(len(anchors), ANCHOR_WEIGHT),
            np.full(len(background), BACKGROUND_WEIGHT / max(len(background), 1)),
        ]
    )
    if labels.all() or not labels.any():
        return None
    # Both classes weigh the same in all, however few the 👍 or many the candidates.
    weights[labels] *= weights[~labels].sum() / weights[labels].sum()
    # Loaded only when a topic has votes: scikit-learn takes seconds to import.
    from sklearn.linear_model import LogisticRegression

    classifier = LogisticRegression(C=STRENGTH, max_iter=1000)
    classifier.fit(features, labels, sample_weight=weights)
    liked = int((votes.values > 0).sum())
    return TopicModel(classifier=classifier, votes=votes.count, liked=liked)


def uncertain_papers(
    paper_ids: Sequence[str], scores: np.ndarray, *, threshold: float, count: int
) -> list[str]:
    """Pick the papers whose score is closest to a topic's threshold: the votes that teach most.

    The threshold (the score at the topic's `min_percent`) is where the topic is least sure
    whether to show a paper; ties go to the higher score, then the id.
    """
    order = sorted(
        range(len(paper_ids)),
        key=lambda i: (abs(float(scores[i]) - threshold), -float(scores[i]), paper_ids[i]),
    )
    return [paper_ids[i] for i in order[:count]]


class Scored(Protocol):
    """Anything scored for a topic: a ScoredMatch, or a stored Match row."""

    @property
    def paper_id(self) -> str:
        """The paper's arXiv id."""

    @property
    def topic(self) -> str:
        """The topic's key."""

    @property
    def score(self) -> float:
        """The calibrated score in [0, 1]."""


def suggest_votes(
    matches: Iterable[Scored], thresholds: Mapping[str, float], *, count: int = 3
) -> dict[str, list[str]]:
    """Propose, per topic, the papers worth asking a reader to rate (active learning).

    Args:
        matches: a day's scored matches.
        thresholds: per topic key, the score at which a paper is shown (at its `min_percent`).
        count: papers proposed per topic.
    """
    by_topic: dict[str, tuple[list[str], list[float]]] = {}
    for match in matches:
        if match.topic in thresholds:
            ids, scores = by_topic.setdefault(match.topic, ([], []))
            ids.append(match.paper_id)
            scores.append(match.score)
    return {
        topic: uncertain_papers(ids, np.array(scores), threshold=thresholds[topic], count=count)
        for topic, (ids, scores) in by_topic.items()
    }
