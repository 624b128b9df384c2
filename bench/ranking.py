"""Rank the development pool with PaperRadar and the peers' methods, cold and learning from votes.

    python bench/ranking.py [--dev-set DIR] [--pool FILE]
                            [--profile profiles/default.yaml] [--data-dir var/bench]
                            [--skip-cold] [--backend torch|onnx-int8]

Cold: PaperRadar ranks through `ranking.rank_papers_file` (the `rank` command); the peers
(bench/peers.py) are BM25, arxiv-sanity-lite's TF-IDF + SVM on the routed seeds,
zotero-arxiv-daily's mean similarity to the routed seeds, and dense similarity to the topic's
description. After the cold table, the label coverage (bench/coverage.py): how many pool
papers hold one of a topic's keyword phrases in their title, and how many of those a curated
list names. Every ranking is scored by the development set's eval.py with `--exclude PROFILE`
(seed papers are no candidates).

Learning (bench/replay.py): the days are replayed in order, a reader votes on each day's
digest picks (👍 when a list names the paper, 👎 otherwise; a noisy reader votes on 70 % and
flips 10 %), the model learns after each day, and the curve gives per-day nDCG@10 after 0, 10,
20, 50 and 100 votes per topic beside cold PaperRadar and BM25 on the same later days; then
the judged days' graded nDCG@10 (judged/eval_graded.py) of the cold and the learning ranker;
then how learnable the lists are at all (a classifier on every paper of the first 40 days);
then the same curve for a reader with a consistent taste (replay.TASTES).

The first run embeds the pool into the data dir's database (about 30 minutes on two CPU cores;
bench/gpu_vectors.py does it on a GPU). bench/dev_set.py says where the development set is found.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import dev_set
import numpy as np
from bench_settings import bench_settings
from coverage import coverage_table, label_coverage
from peers import bm25_ranking, similarity_ranking, svm_ranking
from replay import (
    CLEAN,
    NOISY,
    TASTES,
    Scorer,
    baseline_rankings,
    build_days,
    cold_matches,
    curve,
    curve_table,
    list_ceiling,
    replay,
    taste_labels,
)

from paperradar.app import App, build_app
from paperradar.embed.vectors import load_vectors
from paperradar.ingest.papers import stored_papers
from paperradar.profiles.profile import Profile, load_profile
from paperradar.rank.index import TopicIndex
from paperradar.rank.rank_file import rank_papers_file
from paperradar.rank.stage import load_seeds
from paperradar.settings import EmbeddingSettings
from paperradar.store.db import session_scope

ROOT = Path(__file__).resolve().parents[1]
METRICS = ("nDCG@10", "day_nDCG@10", "day_R@10")
Row = dict[str, object]
Ranking = dict[str, list[str]]


def load_rows(pool: Path) -> list[Row]:
    """Read the pool's papers."""
    with gzip.open(pool, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def load_labels(args: argparse.Namespace) -> dict[str, set[str]]:
    """Read the development labels: `{topic: ids}`."""
    raw = json.loads(dev_set.dev_file(args, "dev_labels.json").read_text(encoding="utf-8"))
    return {topic: set(ids) for topic, ids in raw.items() if topic != "sources"}


def evaluate(ranking: Ranking, args: argparse.Namespace, pool: Path, scratch: Path) -> dict:
    """Score a ranking with the development set's own eval.py; return its JSON result."""
    ranking_file, result_file = scratch / "ranking.json", scratch / "scores.json"
    ranking_file.write_text(json.dumps(ranking), encoding="utf-8")
    scorer = dev_set.dev_file(args, "eval.py")
    command = [sys.executable, str(scorer), str(ranking_file), "--pool", str(pool)]
    command += ["--exclude", str(args.profile), "--json", str(result_file)]
    subprocess.run(command, check=True, capture_output=True)
    return json.loads(result_file.read_text(encoding="utf-8"))


def table(results: Mapping[str, dict], ours: str, baseline: str = "BM25") -> str:
    """Lay out per-topic and mean metrics of every system, and ours over the baseline."""
    names = list(results)
    head = f"{'topic':15s} {'metric':12s} " + " ".join(f"{n[:11]:>11s}" for n in names)
    lines = [head + f" {'ratio':>6s}", "-" * (len(head) + 7)]
    first = results[names[0]]
    for topic in [*sorted(first["topics"]), "mean"]:
        for metric in METRICS:
            values = {
                name: (r["mean"] if topic == "mean" else r["topics"][topic])[metric]
                for name, r in results.items()
            }
            cells = " ".join(f"{values[n]:11.4f}" for n in names)
            b = values[baseline]
            ratio = f"{values[ours] / b:6.2f}" if b else "     -"
            lines.append(f"{topic:15s} {metric:12s} {cells} {ratio}")
    return "\n".join(lines)


def pool_vectors(ctx: App, ids: Sequence[str]) -> np.ndarray:
    """Load the pool's cached vectors, in the ids' order."""
    with session_scope(ctx.engine) as session:
        papers = stored_papers(session, ids)
        return np.stack(load_vectors(session, ctx.embedder.model_name, [papers[i] for i in ids]))


def peer_rankings(
    ctx: App, rows: Sequence[Row], profile: Profile, liked: Mapping[str, list[str]]
) -> dict[str, Ranking]:
    """Rank with every peer method; `liked` texts are extra SVM positives (feedback)."""
    vectors = pool_vectors(ctx, [str(row["id"]) for row in rows])
    with session_scope(ctx.engine) as session:
        seeds = load_seeds(session, ctx.embedder.model_name, profile)
    index = TopicIndex.build(profile, seeds=seeds, embed=ctx.embedder.embed, background=vectors)
    svm_texts = {
        anchors.key: [f"{s.title} {s.abstract}" for s in seeds if s.paper_id in anchors.seed_ids]
        + list(liked.get(anchors.key, []))
        for anchors in index.topics
    }
    return {
        "BM25": bm25_ranking(rows, profile),
        "TFIDF+SVM": svm_ranking(rows, svm_texts),
        "SeedSim": similarity_ranking(rows, vectors, {a.key: a.seed_vectors for a in index.topics}),
        "DescSim": similarity_ranking(
            rows, vectors, {a.key: a.description[None, :] for a in index.topics}
        ),
    }


def cold(args: argparse.Namespace, ctx: App, rows: list[Row], scratch: Path) -> Ranking:
    """Rank the whole pool with PaperRadar and the peers; print the table; return ours."""
    profile = load_profile(args.profile)
    started = time.perf_counter()
    ours = rank_papers_file(ctx.engine, ctx.embedder, args.pool, profile, today=ctx.clock().date())
    seconds = time.perf_counter() - started
    rankings = {"PaperRadar": ours, **peer_rankings(ctx, rows, profile, {})}
    results = {name: evaluate(r, args, args.pool, scratch) for name, r in rankings.items()}
    print("COLD (whole pool; ratio = PaperRadar / BM25)")
    print(table(results, "PaperRadar"))
    print(f"\nPaperRadar ranked {len(rows)} papers per topic in {seconds:.1f} s\n")
    print("LABEL COVERAGE (pool papers whose title holds one of the topic's keyword phrases,")
    print("and how many of them a curated list names: the rest count as misses for every ranker)")
    print(coverage_table(label_coverage(rows, profile, load_labels(args))) + "\n")
    return ours


def learning_curve(args: argparse.Namespace, ctx: App, rows: list[Row], scratch: Path) -> None:
    """Replay the days with a clean and a noisy reader voting on the picks; print the curves."""
    profile = load_profile(args.profile)
    labels = {t: ids - profile.seed_ids for t, ids in load_labels(args).items()}
    days = build_days(rows, pool_vectors(ctx, [str(row["id"]) for row in rows]))
    scorer = Scorer(ctx.engine, ctx.embedder, profile)
    started = time.perf_counter()
    cold = cold_matches(scorer, days)
    cold_seconds = (time.perf_counter() - started) / len(days)
    base = baseline_rankings(profile, days, cold)
    print("LEARNING CURVE (per-day nDCG@10; after k votes: each topic's model frozen at its")
    print("first k votes, scored on every day after the k-th vote's day, cold and BM25 alike)")
    for reader in (CLEAN, NOISY):
        run = replay(scorer, days, labels, reader)
        print(curve_table(curve(scorer, days, labels, run, base), reader.name))
        votes = ", ".join(
            f"{t} {s.values.count(1)}+/{s.values.count(-1)}-" for t, s in run.streams.items()
        )
        print(f"votes cast: {votes}; {run.picks_per_day:.1f} picks a day")
        print(
            f"a day scored in {run.seconds_per_day:.2f} s with votes (cold: {cold_seconds:.2f} s)"
        )
        if reader is CLEAN:
            graded(args, {"cold": base["cold"], "learned": run.live}, scratch)
    half = len(days) // 2
    print(f"HOW LEARNABLE THE LISTS ARE (a classifier on every paper of the first {half} days,")
    later = len(days) - half
    print(f"vector + cold score, positives = listed; per-day nDCG@10 on the last {later} days)")
    for topic, (positives, cold_ndcg, learned_ndcg) in list_ceiling(
        profile, days, cold, labels
    ).items():
        print(
            f"{topic:15s} {positives:3d} listed papers learned from: cold {cold_ndcg:.3f}, "
            f"classifier {learned_ndcg:.3f} ({learned_ndcg - cold_ndcg:+.3f})"
        )
    tastes = taste_labels(profile, days, cold)
    run = replay(scorer, days, tastes, CLEAN)
    sizes = ", ".join(f"{t} {len(ids)}" for t, ids in tastes.items())
    print(f"A CONSISTENT READER: 👍 only papers on {TASTES} ({sizes} papers over the days)")
    print(curve_table(curve(scorer, days, tastes, run, base), "consistent"))


def graded(
    args: argparse.Namespace, runs: Mapping[str, Mapping[str, Ranking]], scratch: Path
) -> None:
    """Score each run's day-by-day rankings on the judged days (judged/eval_graded.py)."""
    scorer = dev_set.folder(args) / "judged" / "eval_graded.py"
    for name, by_day in runs.items():
        topics = next(iter(by_day.values()))
        ranking = {t: [p for day in sorted(by_day) for p in by_day[day][t]] for t in topics}
        path = scratch / f"graded-{name}.json"
        path.write_text(json.dumps(ranking), encoding="utf-8")
        command = [sys.executable, str(scorer), str(path), "--pool", str(args.pool)]
        result = subprocess.run(command, check=True, capture_output=True, text=True)
        print(f"GRADED ({name}, judged days)\n{result.stdout}")


def main() -> None:
    """Rank, score and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    dev_set.add_arguments(parser)
    parser.add_argument("--profile", type=Path, default=ROOT / "profiles" / "default.yaml")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument("--skip-cold", action="store_true", help="only the learning curve")
    parser.add_argument(
        "--backend",
        choices=["torch", "onnx-int8"],
        default="torch",
        help="embedding backend (each one's vectors are cached apart)",
    )
    args = parser.parse_args()
    args.pool = dev_set.pool(args)
    for name in ("dev_labels.json", "eval.py"):  # stop now, not after the pool is embedded
        dev_set.dev_file(args, name)
    ctx = build_app(
        bench_settings(args.data_dir, embedding=EmbeddingSettings(backend=args.backend))
    )
    rows = load_rows(args.pool)
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        if not args.skip_cold:
            cold(args, ctx, rows, scratch)
        learning_curve(args, ctx, rows, scratch)


if __name__ == "__main__":
    main()
