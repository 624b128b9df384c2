"""Fit the percent's calibration on judged days and check it on the others.

    python bench/calibrate.py [--dev-set DIR] [--pool FILE] [--data-dir var/bench]
                              [--profile profiles/default.yaml] [--write]

The percent is the estimated chance that a paper is on the topic (rank/calibration.py). It is
fitted, Platt-style (a logistic curve of the cold score, shared by the topics), on the judged
development days (judged/: every paper in either ranker's top 10 graded; a grade 2 paper counts
as on topic, a grade 1 paper as half, every other paper of the day as off topic), and checked on
the days that were not judged, against the curated lists. The lists miss most on-topic papers,
so the observed share there is a lower bound of the true one. `--write` stores the fitted points
in src/paperradar/rank/calibration.json. Then, per threshold, how many picks a day the shipped
caps give, and how the keyword-only example ("token merging" under model merging) now scores.
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import dev_set
import numpy as np
from bench_settings import bench_settings
from ranking import ROOT, load_labels, load_rows, pool_vectors
from replay import Scorer, build_days, cold_matches, picks_of
from sklearn.linear_model import LogisticRegression

from paperradar.app import build_app
from paperradar.profiles.profile import load_profile
from paperradar.rank.calibration import CALIBRATION_FILE, Calibration, parse_calibration
from paperradar.rank.index import ScoredMatch

TARGET = ROOT / "src" / "paperradar" / "rank" / CALIBRATION_FILE
BANDS = (0, 10, 20, 30, 40, 50, 60, 80, 101)
THRESHOLDS = (10, 15, 20, 25, 30, 40, 50)
GRADE_CHANCE = {2: 1.0, 1: 0.5, 0: 0.0}


def judged(args: argparse.Namespace) -> tuple[set[str], dict[str, dict[str, int]]]:
    """The judged days and each topic's grades."""
    folder = dev_set.folder(args) / "judged"
    meta = json.loads((folder / "days.json").read_text(encoding="utf-8"))
    grades = {
        topic: json.loads((folder / f"grades_{topic}.json").read_text(encoding="utf-8"))
        for topic in meta["topics"]
    }
    return set(meta["days"]), grades


def fit(
    scored: Mapping[str, Sequence[ScoredMatch]], days: set[str], grades: Mapping[str, dict]
) -> tuple[float, float, int]:
    """Platt scaling of the cold score on the judged days; returns slope, intercept, papers."""
    scores, chances = [], []
    for day in sorted(days & set(scored)):
        for match in scored[day]:
            scores.append(match.score)
            chances.append(GRADE_CHANCE[int(grades[match.topic].get(match.paper_id, 0))])
    x = np.array(scores)[:, None]
    y = np.array(chances)
    # A half-on-topic paper is one positive and one negative example, each of weight one half.
    features = np.vstack([x, x])
    labels = np.concatenate([np.ones(len(y)), np.zeros(len(y))])
    weights = np.concatenate([y, 1 - y])
    model = LogisticRegression(C=1e6, max_iter=1000).fit(features, labels, sample_weight=weights)
    return float(model.coef_[0, 0]), float(model.intercept_[0]), len(y)


def curve_points(slope: float, intercept: float) -> list[list[float]]:
    """The fitted curve sampled every 0.02 of score (the product interpolates between)."""
    grid = np.round(np.arange(0.0, 1.0001, 0.02), 2)
    chance = 1 / (1 + np.exp(-(slope * grid + intercept)))
    return [[float(s), round(float(c), 4)] for s, c in zip(grid, chance, strict=True)]


def reliability(
    scored: Mapping[str, Sequence[ScoredMatch]],
    calibration: Calibration,
    labels: Mapping[str, set[str]],
    days: set[str],
) -> str:
    """Per band of percent on the given days: papers, predicted and observed listed share."""
    head = f"{'band':>8s} {'papers':>7s} {'predicted':>9s} {'listed':>7s}"
    lines = [head, "-" * len(head)]
    matches = [m for day in sorted(days & set(scored)) for m in scored[day]]
    for low, high in itertools.pairwise(BANDS):
        band = [m for m in matches if low <= calibration.percent(m.score) < high]
        if not band:
            continue
        predicted = np.mean([calibration.chance(m.score) for m in band])
        observed = np.mean([m.paper_id in labels[m.topic] for m in band])
        lines.append(
            f"{low:3d}-{min(high, 100):3d}% {len(band):7d} {predicted:9.3f} {observed:7.3f}"
        )
    return "\n".join(lines)


def main() -> None:
    """Fit, print the tables, and with --write store the calibration."""
    parser = argparse.ArgumentParser(description=__doc__)
    dev_set.add_arguments(parser)
    parser.add_argument("--profile", type=Path, default=ROOT / "profiles" / "default.yaml")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument("--write", action="store_true", help=f"store the fit in {TARGET.name}")
    args = parser.parse_args()
    args.pool = dev_set.pool(args)
    ctx = build_app(bench_settings(args.data_dir))
    profile = load_profile(args.profile)
    rows = load_rows(args.pool)
    labels = {t: ids - profile.seed_ids for t, ids in load_labels(args).items()}
    days = build_days(rows, pool_vectors(ctx, [str(row["id"]) for row in rows]))
    scorer = Scorer(ctx.engine, ctx.embedder, profile)
    scored = cold_matches(scorer, days)
    judged_days, grades = judged(args)
    slope, intercept, papers = fit(scored, judged_days, grades)
    fitted = sorted(judged_days & set(scored))
    text = json.dumps(
        {
            "meaning": "estimated chance that a paper is on the topic, from its cold score",
            "fitted_on": fitted,
            "method": f"Platt: 1 / (1 + exp(-({slope:.3f} * score + {intercept:.3f})))",
            "points": curve_points(slope, intercept),
        },
        indent=1,
    )
    calibration = parse_calibration(text)
    print(f"FIT on the judged days {', '.join(fitted)} ({papers} topic-paper pairs):")
    print(f"chance = 1 / (1 + exp(-({slope:.3f} * score + {intercept:.3f})))\n")
    print("RELIABILITY on the days not judged (listed = share of papers a curated list names;")
    print("the lists miss most on-topic papers, so it is a lower bound of the true share)")
    print(reliability(scored, calibration, labels, set(scored) - judged_days))
    print("\nRELIABILITY on the judged days themselves (listed share, same lower bound)")
    print(reliability(scored, calibration, labels, judged_days))
    print(f"\nPICKS A DAY by threshold (max_picks as shipped), over {len(scored)} days")
    for threshold in THRESHOLDS:
        topics = {
            key: topic.model_copy(update={"min_percent": threshold})
            for key, topic in profile.topics.items()
        }
        at = profile.model_copy(update={"topics": topics})
        counts = []
        for day, matches in scored.items():
            rescored = [
                ScoredMatch(m.paper_id, m.topic, m.score, calibration.percent(m.score), m.reason)
                for m in matches
            ]
            counts.append(len(picks_of(rescored, at, day)))
        print(
            f"  min_percent {threshold:3d}: {np.mean(counts):5.1f} picks a day (max {max(counts)})"
        )
    titles = {str(row["id"]): str(row["title"]) for row in rows}
    print("\nKEYWORD-ONLY EXAMPLES (token merging is not model merging)")
    for matches in scored.values():
        for m in matches:
            if m.topic == "model_merging" and "token merging" in titles[m.paper_id].lower():
                print(f"  {calibration.percent(m.score):3d}%  {m.paper_id}  {titles[m.paper_id]}")
    if args.write:
        TARGET.write_text(text + "\n", encoding="utf-8")
        print(f"\nwrote {TARGET}")


if __name__ == "__main__":
    main()
