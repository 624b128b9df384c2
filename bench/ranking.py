"""Rank the development pool with PaperRadar and the peers' methods, cold and with feedback.

    python bench/ranking.py [--dev-set DIR] [--pool FILE]
                            [--profile profiles/default.yaml] [--data-dir var/bench]
                            [--votes 20] [--per-day 5] [--min-liked 5] [--picks-only]
                            [--backend torch|onnx-int8]

Cold: PaperRadar ranks through `ranking.rank_papers_file` (the `rank` command); the peers
(bench/peers.py) are BM25, arxiv-sanity-lite's TF-IDF + SVM on the routed seeds,
zotero-arxiv-daily's mean similarity to the routed seeds, and dense similarity to the topic's
description. After the cold table, the label coverage (bench/coverage.py): how many pool
papers hold one of a topic's keyword phrases in their title, and how many of those a curated
list names. Feedback: per topic, the digest's top `--per-day` picks of the first days are
revealed as 👍 (a labelled paper) or 👎 until `--votes` votes. The lists miss many relevant
papers, so early picks are mostly 👎: the reader gives no more 👎 once only `--min-liked` votes
are left, so no topic learns from 👎 alone (`--min-liked 0`: a vote on every pick). The votes
are stored as Feedback rows under the profile `bench-feedback`, and the days after the last
revealed day are ranked again (PaperRadar through the same path as the pipeline: liked papers
become routed seeds and each topic learns from its votes; the SVM gets the liked papers as
extra positives). Every ranking is scored by the development set's eval.py with `--exclude
PROFILE` (seed papers are no candidates). The first run embeds the pool into the data dir's
database (about 30 minutes on two CPU cores). bench/dev_set.py says where the development set
is found.
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
from coverage import coverage_table, label_coverage
from peers import bm25_ranking, similarity_ranking, svm_ranking
from sqlmodel import col, delete, select

from paperradar.app import App, build_app
from paperradar.embed.vectors import load_vectors
from paperradar.profiles.profile import Profile, load_profile
from paperradar.rank.index import TopicIndex
from paperradar.rank.rank_file import rank_papers_file
from paperradar.rank.stage import load_seeds
from paperradar.readers.feedback import set_feedback
from paperradar.readers.topics import with_liked_papers
from paperradar.settings import EmbeddingSettings, Settings
from paperradar.store.db import session_scope
from paperradar.store.records import Feedback, Paper

ROOT = Path(__file__).resolve().parents[1]
METRICS = ("nDCG@10", "day_nDCG@10", "day_R@10")
FEEDBACK_PROFILE = "bench-feedback"
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
        papers: dict[str, Paper] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            papers.update(
                (p.arxiv_id, p)
                for p in session.exec(select(Paper).where(col(Paper.arxiv_id).in_(chunk)))
            )
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


def reveal_votes(
    ranking: Ranking,
    rows: Sequence[Row],
    labels: Mapping[str, set[str]],
    *,
    per_day: int,
    votes: int,
    picks_only: bool = False,
    min_liked: int = 0,
) -> tuple[dict[str, list[tuple[str, int]]], str]:
    """Vote on each topic's top picks, day by day from the first, until `votes` per topic.

    Unless `picks_only`, the reader also likes the day's other relevant papers (found in the
    listing). Once a topic has `votes - min_liked` 👎, the reader stops voting 👎 and only likes,
    so that every topic ends with at least `min_liked` 👍 where the pool has them.

    Returns the votes per topic and the last day any topic voted on (later days are scored).
    """
    day_of = {str(row["id"]): str(row["date"]) for row in rows}
    revealed: dict[str, list[tuple[str, int]]] = {}
    last = min(day_of.values())
    for topic, ids in ranking.items():
        picks: dict[str, list[str]] = {}
        for paper in ids:
            picks.setdefault(day_of[paper], []).append(paper)
        chosen: list[tuple[str, int]] = []
        for day in sorted(picks):
            if len(chosen) >= votes:
                break
            shown = picks[day][:per_day]
            if not picks_only:  # the reader also likes what they found in the day's listing
                shown += [p for p in picks[day][per_day:] if p in labels[topic]]
            for paper in shown:
                liked = paper in labels[topic]
                if len(chosen) < votes and (liked or _disliked(chosen) < votes - min_liked):
                    chosen.append((paper, 1 if liked else -1))
            last = max(last, day)
        revealed[topic] = chosen
    return revealed, last


def _disliked(votes: Sequence[tuple[str, int]]) -> int:
    return sum(value < 0 for _, value in votes)


def store_votes(ctx: App, profile: Profile, votes: Mapping[str, list[tuple[str, int]]]) -> Profile:
    """Store the votes as Feedback rows of a bench profile; return it with its liked seeds."""
    voting = profile.model_copy(update={"name": FEEDBACK_PROFILE})
    with session_scope(ctx.engine) as session:
        session.exec(delete(Feedback).where(col(Feedback.profile) == FEEDBACK_PROFILE))
        for topic, pairs in votes.items():
            for paper, value in pairs:
                set_feedback(
                    session,
                    paper_id=paper,
                    profile=FEEDBACK_PROFILE,
                    topic=topic,
                    value=value,
                    channel="bench",
                    user_id="bench",
                )
        return with_liked_papers(session, voting)


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


def with_feedback(
    args: argparse.Namespace, ctx: App, rows: list[Row], ours: Ranking, scratch: Path
) -> None:
    """Reveal the first days' picks as votes and rank the later days with and without them."""
    profile = load_profile(args.profile)
    labels = load_labels(args)
    votes, last = reveal_votes(
        ours,
        rows,
        labels,
        per_day=args.per_day,
        votes=args.votes,
        picks_only=args.picks_only,
        min_liked=args.min_liked,
    )
    rest = [row for row in rows if str(row["date"]) > last]
    if not rest:
        print(f"FEEDBACK: skipped, the votes used every day of the pool (up to {last})")
        return
    rest_file = scratch / "rest.jsonl"
    rest_file.write_text("".join(json.dumps(row) + "\n" for row in rest), encoding="utf-8")
    voting = store_votes(ctx, profile, votes)
    by_id = {str(row["id"]): row for row in rows}
    liked = {
        topic: [f"{by_id[p]['title']} {by_id[p]['abstract']}" for p, v in pairs if v > 0]
        for topic, pairs in votes.items()
    }
    rankings = {
        "PR+feedback": rank_papers_file(
            ctx.engine, ctx.embedder, rest_file, voting, today=ctx.clock().date()
        ),
        "PR cold": rank_papers_file(
            ctx.engine, ctx.embedder, rest_file, profile, today=ctx.clock().date()
        ),
        **peer_rankings(ctx, rest, profile, {}),
        "SVM+feedback": peer_rankings(ctx, rest, profile, liked)["TFIDF+SVM"],
    }
    results = {name: evaluate(r, args, rest_file, scratch) for name, r in rankings.items()}
    counts = ", ".join(
        f"{t} {sum(v > 0 for _, v in p)}+/{sum(v < 0 for _, v in p)}-" for t, p in votes.items()
    )
    found = "" if args.picks_only else " + relevant papers found in the listing"
    fair = f"; no 👎 after the {args.votes - args.min_liked}th" if args.min_liked else ""
    print(f"FEEDBACK ({args.votes} votes per topic: top {args.per_day} picks a day{found}{fair},")
    print(f"up to {last}: {counts}; scored on the {len(rest)} papers after it;")
    print("ratio = PR+feedback / BM25)")
    print(table(results, "PR+feedback"))


def main() -> None:
    """Rank, score and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    dev_set.add_arguments(parser)
    parser.add_argument("--profile", type=Path, default=ROOT / "profiles" / "default.yaml")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument("--votes", type=int, default=20, help="votes per topic")
    parser.add_argument("--per-day", type=int, default=5, help="picks voted on per day")
    parser.add_argument(
        "--picks-only", action="store_true", help="vote on the picks only, not on papers found"
    )
    parser.add_argument(
        "--min-liked",
        type=int,
        default=5,
        help="👍 a topic is left room for: the reader gives no 👎 past votes - this (0: off)",
    )
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
    settings = Settings(
        data_dir=args.data_dir,
        profiles_dir=ROOT / "profiles",
        prompts_dir=ROOT / "prompts",
        migrations_dir=ROOT / "db",
        embedding=EmbeddingSettings(backend=args.backend),
    )
    ctx = build_app(settings)
    rows = load_rows(args.pool)
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        ours = cold(args, ctx, rows, scratch)
        with_feedback(args, ctx, rows, ours, scratch)


if __name__ == "__main__":
    main()
