"""Learn each topic's taste from readers' 👍/👎: an update of the cold score's odds.

The cold score's percent is a calibrated chance (calibration.py), so votes update it as evidence
updates a prior. A logistic regression on the voted papers, whose offset is each paper's cold
log-odds, learns only what the cold score does not already say, over the paper's vector and its
evidence (evidence.py): which of a topic's papers this reader wants. Its shift is centred on the
voted papers (votes re-order a topic's papers; they do not move all its percents), its L2
penalties keep a few votes from swinging a topic (the shift grows with the votes), and it never
passes `MAX_SHIFT`. It was learned on the voted papers, all near or above the topic's bar, so it
applies in full from `FULL_FROM_PERCENT` up and not at all below `NONE_BELOW_PERCENT`: votes
never lift a paper the topic does not match. A regression needs both kinds of vote, so a 👎 is
also a negative anchor: a paper about as close to a disliked one as two papers on one narrow
question goes down (a 👍 is a seed of its topic already, readers/topics.py, and pulls its
neighbours up). bench/ranking.py measures it; docs/ranking.md gives the numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy.optimize import minimize

from paperradar.rank.calibration import Calibration

# A topic learns from its newest votes of each kind: tastes drift, and the fit must stay within
# the time one chat's scoring may take.
NEWEST_VOTES = 100
# L2 penalties of the regression, per feature group (the features are on [0, 1] scales).
VECTOR_PENALTY = 1.0
EVIDENCE_PENALTY = 0.3
# The largest shift votes may give a paper, in log-odds (about 0.15 of the score).
MAX_SHIFT = 3.0
# A paper this close (cosine) to a 👎 one starts to go down, by up to DISLIKED_PUSH log-odds for
# the disliked paper itself; 0.6 is where two papers address one narrow question.
DISLIKED_COSINE = 0.6
DISLIKED_PUSH = 0.75
# Where the shift applies: not below this cold percent, in full from this one, linearly between.
NONE_BELOW_PERCENT = 10
FULL_FROM_PERCENT = 40


@dataclass(frozen=True)
class Votes:
    """The voted papers of one topic: text, unit vectors and +1 (👍) or -1 (👎) each."""

    paper_ids: tuple[str, ...]
    titles: tuple[str, ...]
    abstracts: tuple[str, ...]
    vectors: np.ndarray
    values: np.ndarray

    @property
    def count(self) -> int:
        """How many votes there are."""
        return len(self.paper_ids)

    @property
    def liked_ids(self) -> tuple[str, ...]:
        """The 👍 papers."""
        return tuple(p for p, v in zip(self.paper_ids, self.values, strict=True) if v > 0)


@dataclass(frozen=True)
class Scored:
    """Papers as the cold scorer sees them: score, vectors and evidence components (rows)."""

    score: np.ndarray
    vectors: np.ndarray
    evidence: np.ndarray

    @property
    def features(self) -> np.ndarray:
        """What the regression weighs: each paper's vector, then its evidence."""
        stacked: np.ndarray = np.hstack([self.vectors, self.evidence])
        return stacked


@dataclass(frozen=True)
class TopicModel:
    """What a topic learned from its votes: a direction in feature space and its anchors."""

    weights: np.ndarray | None  # over Scored.features; None until there are 👍 and 👎
    centre: float  # the mean shift over the voted papers, taken off every shift
    disliked: np.ndarray  # unit vectors of the 👎 papers
    votes: int
    liked: int

    def shift(self, papers: Scored) -> np.ndarray:
        """Each paper's change of log-odds from the votes, within ±MAX_SHIFT."""
        shift = np.zeros(len(papers.score))
        if self.weights is not None:
            shift += papers.features @ self.weights - self.centre
        if len(self.disliked):
            closeness = (papers.vectors @ self.disliked.T).max(axis=1)
            shift -= DISLIKED_PUSH * np.clip(
                (closeness - DISLIKED_COSINE) / (1 - DISLIKED_COSINE), 0.0, 1.0
            )
        clipped: np.ndarray = np.clip(shift, -MAX_SHIFT, MAX_SHIFT)
        return clipped

    def apply(self, papers: Scored, calibration: Calibration) -> np.ndarray:
        """The learned scores: cold score plus the shift on the score's scale, within [0, 1].

        Args:
            papers: the candidates, scored cold.
            calibration: the score -> chance map whose log-odds the shift is in.
        """
        low = calibration.score_at(NONE_BELOW_PERCENT)
        high = calibration.score_at(FULL_FROM_PERCENT)
        share = np.clip((papers.score - low) / max(high - low, 1e-6), 0.0, 1.0)
        shift = share * self.shift(papers) / calibration.logit_slope
        learned: np.ndarray = np.clip(papers.score + shift, 0.0, 1.0)
        return learned


def fit_topic_model(votes: Votes, voted: Scored, *, slope: float) -> TopicModel | None:
    """Learn a topic's model from its votes; None without votes.

    Args:
        votes: the topic's voted papers.
        voted: the same papers scored cold for the topic (their offsets and features).
        slope: log-odds per unit of score, to turn cold scores into offsets.
    """
    if votes.count == 0:
        return None
    liked = votes.values > 0
    weights, centre = None, 0.0
    if liked.any() and not liked.all():
        features = voted.features
        penalty = np.concatenate(
            [
                np.full(voted.vectors.shape[1], VECTOR_PENALTY),
                np.full(voted.evidence.shape[1], EVIDENCE_PENALTY),
            ]
        )
        weights = _logistic_with_offset(features, slope * voted.score, liked, penalty)
        centre = float((features @ weights).mean())
    return TopicModel(
        weights=weights,
        centre=centre,
        disliked=votes.vectors[~liked],
        votes=votes.count,
        liked=int(liked.sum()),
    )


def _logistic_with_offset(
    features: np.ndarray, offset: np.ndarray, positive: np.ndarray, penalty: np.ndarray
) -> np.ndarray:
    """L2-penalised logistic regression with a per-row offset and a free intercept.

    Minimises sum log(1 + exp(-y (offset + a + features . w))) + 1/2 sum penalty w^2 and returns
    w (the intercept a only absorbs how often this reader says 👍; it ranks nothing).
    """
    sign = np.where(positive, 1.0, -1.0)

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        intercept, weights = theta[0], theta[1:]
        margin = sign * (offset + intercept + features @ weights)
        value = float(np.logaddexp(0.0, -margin).sum() + 0.5 * (penalty * weights**2).sum())
        slope = -sign / (1.0 + np.exp(np.clip(margin, -50.0, 50.0)))
        gradient = np.concatenate([[slope.sum()], features.T @ slope + penalty * weights])
        return value, gradient

    start = np.zeros(features.shape[1] + 1)
    result = minimize(loss, start, jac=True, method="L-BFGS-B", tol=1e-6)
    weights: np.ndarray = result.x[1:]
    return weights


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


class ScoredPaper(Protocol):
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
    matches: Iterable[ScoredPaper], thresholds: Mapping[str, float], *, count: int = 3
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
