"""Learn each topic's taste from readers' 👍/👎: an update of the cold score's odds.

The cold score's percent is a calibrated chance (calibration.py), so votes update it as evidence
updates a prior. A logistic regression on the voted papers, whose offset is each paper's cold
log-odds, learns only what the cold score does not already say, over the paper's vector, its
evidence (evidence.py) and its taste: how close it is to the mean 👍 and the mean 👎 paper. The
taste learns a reader's narrower question from a few votes; it counts as much as the votes
agree with one another, so votes that follow no taste a paper's text shows teach it nothing.
The shift is centred on the voted papers (votes re-order a topic's papers; they do not move all
its percents), its L2 penalties keep a few votes from swinging a topic (the shift grows with the
votes), and it never passes `MAX_SHIFT`. It was learned on the voted papers, all near or above
the topic's bar, so it applies in full from `FULL_FROM_PERCENT` up and not at all below
`NONE_BELOW_PERCENT`: votes never lift a paper the topic does not match. A regression needs both
kinds of vote, so a 👎 is also a negative anchor: a paper about as close to a disliked one as two
papers on one narrow question goes down (a 👍 is a seed of its topic already, readers/topics.py,
and pulls its neighbours up). bench/ranking.py measures it; docs/ranking.md gives the numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
from scipy.optimize import minimize
from scipy.stats import rankdata

from paperradar.rank.calibration import Calibration

# A topic learns from its newest votes of each kind: tastes drift, and the fit must stay within
# the time one chat's scoring may take.
NEWEST_VOTES = 100
# L2 penalties of the regression, per feature group (chosen with bench/ranking.py's readers).
VECTOR_PENALTY = 1.0
EVIDENCE_PENALTY = 0.3
TASTE_PENALTY = 0.3
# The taste features are closeness to the mean 👍 and the mean 👎 paper times this scale: a
# topic's papers differ by about 0.1 in it, as the other features differ by about 1.
TASTE_SCALE = 10.0
# A taste needs this many votes of each kind: a paper is left out of its own kind's mean.
TASTE_MIN_VOTES = 2
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

    def features(self, taste: np.ndarray) -> np.ndarray:
        """What the regression weighs: each paper's vector, its evidence, then its taste."""
        stacked: np.ndarray = np.hstack([self.vectors, self.evidence, taste])
        return stacked


@dataclass(frozen=True)
class TopicModel:
    """What a topic learned from its votes: a direction in feature space and its anchors."""

    weights: np.ndarray | None  # over Scored.features; None until there are 👍 and 👎
    centre: float  # the mean shift over the voted papers, taken off every shift
    disliked: np.ndarray  # unit vectors of the 👎 papers
    votes: int
    liked: int
    means: np.ndarray  # the mean 👍 and the mean 👎 vector (rows), for the taste features

    def regression(self, papers: Scored) -> np.ndarray:
        """The regression's part of each paper's shift (zero until there are 👍 and 👎)."""
        if self.weights is None:
            return np.zeros(len(papers.score))
        learned: np.ndarray = papers.features(self.taste(papers.vectors)) @ self.weights
        return learned - self.centre

    def taste(self, vectors: np.ndarray) -> np.ndarray:
        """The taste features: closeness to the mean 👍 and the mean 👎 paper."""
        closeness: np.ndarray = TASTE_SCALE * vectors @ self.means.T
        return closeness

    def shift(self, papers: Scored) -> np.ndarray:
        """Each paper's change of log-odds from the votes, within ±MAX_SHIFT."""
        shift = self.regression(papers)
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
    model = TopicModel(
        weights=None,
        centre=0.0,
        disliked=votes.vectors[~liked],
        votes=votes.count,
        liked=int(liked.sum()),
        means=np.zeros((2, votes.vectors.shape[1])),
    )
    if liked.all() or not liked.any():
        return model
    means, taste = _taste(votes.vectors, liked)
    features = voted.features(TASTE_SCALE * taste)
    penalty = np.concatenate(
        [
            np.full(voted.vectors.shape[1], VECTOR_PENALTY),
            np.full(voted.evidence.shape[1], EVIDENCE_PENALTY),
            np.full(2, TASTE_PENALTY),
        ]
    )
    weights = _logistic_with_offset(features, slope * voted.score, liked, penalty)
    learned = replace(model, weights=weights, means=means)
    return replace(learned, centre=float(learned.regression(voted).mean()))


def _taste(vectors: np.ndarray, liked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mean 👍 and 👎 vectors (rows) and each voted paper's taste, both times the agreement.

    A voted paper's taste is its closeness to the means of the *other* votes (`vote_agreement`);
    the features are scaled by the agreement, so a taste the votes do not share weighs nothing,
    in the fit and when candidates are scored alike.
    """
    if not _tasted(liked):
        return np.zeros((2, vectors.shape[1])), np.zeros((len(vectors), 2))
    taste = _closeness_to_others(vectors, liked)
    agreement = _agreement(taste, liked)
    means = np.stack([vectors[liked].mean(axis=0), vectors[~liked].mean(axis=0)])
    return agreement * means, agreement * taste


def vote_agreement(vectors: np.ndarray, values: np.ndarray) -> float | None:
    """How far a topic's votes share a taste the papers show: the weight its taste gets, 0-1.

    Each voted paper's closeness to the mean 👍 and the mean 👎 paper of the *other* votes
    (counted in its own mean, it would look close whatever the taste) predicts its vote; this
    is how well (2 AUC - 1, at least 0). None before `TASTE_MIN_VOTES` of each kind.

    Args:
        vectors: the voted papers' unit vectors (rows).
        values: +1 (👍) or -1 (👎) per paper.
    """
    liked = values > 0
    return _agreement(_closeness_to_others(vectors, liked), liked) if _tasted(liked) else None


def _tasted(liked: np.ndarray) -> bool:
    return min(int(liked.sum()), int((~liked).sum())) >= TASTE_MIN_VOTES


def _closeness_to_others(vectors: np.ndarray, liked: np.ndarray) -> np.ndarray:
    """Per voted paper, its closeness to the mean 👍 and the mean 👎 of the other votes."""
    columns = []
    for kind in (liked, ~liked):
        own = kind.astype(float)
        closeness = vectors @ vectors[kind].sum(axis=0) - own * (vectors * vectors).sum(axis=1)
        columns.append(closeness / (kind.sum() - own))
    return np.stack(columns, axis=1)


def _agreement(closeness: np.ndarray, liked: np.ndarray) -> float:
    """2 AUC - 1 (at least 0) of closer-to-the-👍-than-to-the-👎 as a predictor of a 👍."""
    ranks = rankdata(closeness[:, 0] - closeness[:, 1])
    up = int(liked.sum())
    auc = (ranks[liked].sum() - up * (up + 1) / 2) / (up * (len(liked) - up))
    return float(max(0.0, 2 * auc - 1))


def _logistic_with_offset(
    features: np.ndarray, offset: np.ndarray, positive: np.ndarray, penalty: np.ndarray
) -> np.ndarray:
    """L2-penalised logistic regression with a per-row offset and a free intercept.

    Minimises sum log(1 + exp(-y (offset + a + features . w))) + 1/2 sum penalty w^2 and returns
    w (the intercept a only absorbs how often this reader says 👍; it ranks nothing).
    """
    sign = np.where(positive, 1.0, -1.0)
    # Solved for v = sqrt(penalty) w, whose penalty is 1/2 |v|^2: the same optimum, and one
    # scale for every feature group, so the solver stops at it whatever the penalties are.
    root = np.sqrt(penalty)
    scaled = features / root

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        intercept, weights = theta[0], theta[1:]
        margin = sign * (offset + intercept + scaled @ weights)
        value = float(np.logaddexp(0.0, -margin).sum() + 0.5 * (weights**2).sum())
        slope = -sign / (1.0 + np.exp(np.clip(margin, -50.0, 50.0)))
        gradient = np.concatenate([[slope.sum()], scaled.T @ slope + weights])
        return value, gradient

    start = np.zeros(features.shape[1] + 1)
    result = minimize(loss, start, jac=True, method="L-BFGS-B", options={"gtol": 1e-6})
    weights: np.ndarray = result.x[1:] / root
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
