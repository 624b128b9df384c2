"""The percent a reader sees: the estimated chance that a paper is on the topic, from its score.

A topic's score (index.py) orders papers; the percent turns it into a probability through a
monotone map fitted on the development set's judged days by bench/calibrate.py and shipped as
data (`calibration.json`: score -> chance points, interpolated linearly), so the map is refitted
without touching code. Being monotone it never changes an order, only what the number means.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

CALIBRATION_FILE = "calibration.json"


@dataclass(frozen=True)
class Calibration:
    """Points of the score -> chance map, scores increasing, chances non-decreasing."""

    scores: tuple[float, ...]
    chances: tuple[float, ...]

    def chance(self, score: float) -> float:
        """The estimated chance in [0, 1] that a paper with this score is on its topic."""
        return float(np.interp(score, self.scores, self.chances))

    def percent(self, score: float) -> int:
        """The chance as a whole percent."""
        return int(self.percents(np.array([score]))[0])

    def percents(self, scores: np.ndarray) -> np.ndarray:
        """The chances of many scores as whole percents (ints 0-100)."""
        chances = np.interp(scores, self.scores, self.chances)
        rounded: np.ndarray = np.clip(np.round(100 * chances), 0, 100).astype(int)
        return rounded

    def score_at(self, percent: int) -> float:
        """The score whose chance is `percent` (a topic's threshold on the score's scale)."""
        return float(np.interp(percent / 100, self.chances, self.scores))

    @property
    def logit_slope(self) -> float:
        """Log-odds of the chance per unit of score, across the middle (25 % to 75 %).

        Votes shift a paper's log-odds (learning.py); this turns the shift into score.
        """
        width = self.score_at(75) - self.score_at(25)
        return 2 * float(np.log(3.0)) / max(width, 1e-6)


def parse_calibration(text: str) -> Calibration:
    """Read a calibration file's JSON: `{"points": [[score, chance], ...], ...}`."""
    points = sorted((float(score), float(chance)) for score, chance in json.loads(text)["points"])
    if len(points) < 2:
        raise ValueError("a calibration needs at least two points")
    scores = tuple(score for score, _ in points)
    chances = tuple(np.maximum.accumulate([min(1.0, max(0.0, c)) for _, c in points]))
    return Calibration(scores, tuple(float(c) for c in chances))


@cache
def shipped_calibration() -> Calibration:
    """The calibration shipped with the package (read once)."""
    text = (resources.files("paperradar.rank") / CALIBRATION_FILE).read_text(encoding="utf-8")
    return parse_calibration(text)


def percent_of(score: float) -> int:
    """Map a score onto the percent readers see: the shipped estimate of its chance, 0-100."""
    return shipped_calibration().percent(score)


def score_at(percent: int) -> float:
    """The score a paper needs to be shown at `percent` (the shipped calibration's inverse)."""
    return shipped_calibration().score_at(percent)
