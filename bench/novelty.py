"""Does novelty single out the field's notable work? The development set's curated lists
against the rest of each day.

    python bench/novelty.py [--dev-set DIR] [--pool FILE] [--data-dir var/bench-novelty]
                            [--db FILE] [--k 10 --window-days 90] [--backend torch|onnx-int8]
                            [--vectors model|tfidf]

Every pool paper becomes a candidate of its listing day (`date`); the novelty stage's own code
(embed/novelty.py `score_day`) scores the days in order, each against the papers of the
`--window-days` before it. Then, per topic and over the days on which a curated list names
a paper: the novelty percentile of the listed papers against the rest of their day (mean and
median), the Mann-Whitney U test of the two (one-sided: listed more novel) and its AUC (the
chance that a listed paper is more novel than an unlisted one of its day; 0.5 is chance),
pooled over days as pairs within one day. `--db FILE`: a database that already holds the
pool's vectors (bench/ranking.py's var/bench), copied into the data dir when it has none; else
the first run embeds the pool (about 30 minutes on two idle CPU cores). `--vectors tfidf`
stands TF-IDF vectors of title and abstract (256 SVD dimensions) in for the model's, through
the same novelty functions, where the pool cannot be embedded (a few minutes, no database).
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import statistics
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import dev_set
import numpy as np
from bench_settings import bench_settings
from scipy.stats import mannwhitneyu
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sqlalchemy import Engine
from sqlmodel import col, delete, select

from paperradar.app import build_app
from paperradar.embed.embeddings import Embedder, embed_missing
from paperradar.embed.novelty import (
    NEIGHBOURS,
    WINDOW_DAYS,
    novelty_values,
    percentiles,
    score_day,
)
from paperradar.ingest.feeds import parse_feed
from paperradar.ingest.papers import store_reference_papers
from paperradar.settings import EmbeddingSettings
from paperradar.store.db import session_scope
from paperradar.store.records import Novelty, Paper
from paperradar.text import paper_text

ROOT = Path(__file__).resolve().parents[1]
CHUNK = 500


def pool_days(pool: Path) -> dict[str, date]:
    """Each pool paper's listing day."""
    with gzip.open(pool, "rt", encoding="utf-8") as handle:
        return {row["id"]: date.fromisoformat(row["date"]) for row in map(json.loads, handle)}


def prepare(engine: Engine, embedder: Embedder, pool: Path, days: dict[str, date]) -> None:
    """Store and embed the pool where the database lacks it; date each paper by its listing."""
    announcements = parse_feed(pool.read_bytes(), source=str(pool)).announcements
    ids = list(days)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        with session_scope(engine) as session:
            stored = {
                paper.arxiv_id: paper
                for paper in session.exec(select(Paper).where(col(Paper.arxiv_id).in_(chunk)))
            }
            wanted = set(chunk) - set(stored)
            if wanted:
                store_reference_papers(session, [a for a in announcements if a.arxiv_id in wanted])
                session.flush()
                stored = {
                    paper.arxiv_id: paper
                    for paper in session.exec(select(Paper).where(col(Paper.arxiv_id).in_(chunk)))
                }
            for paper in stored.values():
                paper.first_announced_on = days[paper.arxiv_id]
            embed_missing(session, embedder, list(stored.values()))


def score(engine: Engine, model: str, days: dict[str, date], k: int, window: int) -> dict[str, int]:
    """Score every pool day afresh, in order; return each paper's novelty percentile."""
    with session_scope(engine) as session:
        session.exec(delete(Novelty).where(col(Novelty.model) == model))
    for day in sorted(set(days.values())):
        with session_scope(engine) as session:
            score_day(session, model, day, k=k, window_days=window)
    with session_scope(engine) as session:
        rows = session.exec(select(Novelty.paper_id, Novelty.percent).where(Novelty.model == model))
        return {paper_id: value for paper_id, value in rows if paper_id in days}


def compare(
    percent: dict[str, int], days: dict[str, date], listed: set[str]
) -> tuple[int, int, float, float, float, float, float, float] | None:
    """Listed papers against the rest of their days: counts, means, medians, AUC, p (None
    when the pool holds no listed paper)."""
    by_day: dict[date, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for paper_id, value in percent.items():
        by_day[days[paper_id]][0 if paper_id in listed else 1].append(value)
    ours: list[int] = []
    rest: list[int] = []
    wins = pairs = 0.0
    for hit, other in by_day.values():
        if not hit:
            continue
        ours += hit
        rest += other
        for value in hit:
            wins += sum(value > o for o in other) + 0.5 * sum(value == o for o in other)
            pairs += len(other)
    if not ours or not rest:
        return None
    p_value = float(mannwhitneyu(ours, rest, alternative="greater").pvalue)
    return (
        len(ours),
        len(rest),
        statistics.mean(ours),
        statistics.mean(rest),
        statistics.median(ours),
        statistics.median(rest),
        wins / pairs,
        p_value,
    )


def main() -> None:
    """Score the pool's novelty and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    dev_set.add_arguments(parser)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench-novelty")
    parser.add_argument("--db", type=Path, help="a database with the pool's vectors to start from")
    parser.add_argument("--k", type=int, default=NEIGHBOURS)
    parser.add_argument("--window-days", type=int, default=WINDOW_DAYS)
    parser.add_argument("--backend", choices=["torch", "onnx-int8"], default="torch")
    parser.add_argument(
        "--vectors",
        choices=["model", "tfidf"],
        default="model",
        help="model: the embedding model through the stage (default); tfidf: a stand-in, "
        "TF-IDF of title and abstract reduced to 256 dimensions, for a machine that cannot "
        "embed the pool",
    )
    args = parser.parse_args()
    pool = dev_set.pool(args)
    raw = json.loads(dev_set.dev_file(args, "dev_labels.json").read_text(encoding="utf-8"))
    labels = {topic: set(ids) for topic, ids in raw.items() if topic != "sources"}
    days = pool_days(pool)
    if args.vectors == "tfidf":
        percent = tfidf_percentiles(pool, days, args.k, args.window_days)
    else:
        percent = model_percentiles(args, pool, days)
    print_table(args, percent, days, labels)


def model_percentiles(
    args: argparse.Namespace, pool: Path, days: dict[str, date]
) -> dict[str, int]:
    """The pool's novelty percentiles through the stage's code, on the model's stored vectors."""
    database = args.data_dir / "paperradar.sqlite3"
    if args.db is not None and not database.exists():
        if not args.db.is_file():
            dev_set.stop(f"--db {args.db} is not a file")
        args.data_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(args.db, database)
    settings = bench_settings(args.data_dir, embedding=EmbeddingSettings(backend=args.backend))
    app = build_app(settings)
    prepare(app.engine, app.embedder, pool, days)
    return score(app.engine, app.embedder.model_name, days, args.k, args.window_days)


def tfidf_percentiles(pool: Path, days: dict[str, date], k: int, window: int) -> dict[str, int]:
    """The same novelty (embed/novelty.py's functions) over TF-IDF + SVD vectors."""
    with gzip.open(pool, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    texts = [paper_text(row["title"], row["abstract"]) for row in rows]
    tfidf = TfidfVectorizer(sublinear_tf=True, min_df=2, stop_words="english")
    vectors = TruncatedSVD(256, random_state=0).fit_transform(tfidf.fit_transform(texts))
    ids = [row["id"] for row in rows]
    listed = np.array([days[paper_id] for paper_id in ids])
    percent: dict[str, int] = {}
    for day in sorted(set(days.values())):
        today = np.flatnonzero(listed == day)
        earlier = np.flatnonzero((listed < day) & (listed >= day - timedelta(days=window)))
        values, _ = novelty_values(vectors[today], vectors[earlier], k=k)
        percent.update(zip([ids[i] for i in today], percentiles(list(values)), strict=True))
    return percent


def print_table(
    args: argparse.Namespace,
    percent: dict[str, int],
    days: dict[str, date],
    labels: dict[str, set[str]],
) -> None:
    """Print the table: per topic and for any list, listed papers against their days."""
    print(
        f"NOVELTY ({args.vectors} vectors) of listed papers against the rest of their days "
        f"(k={args.k}, window {args.window_days} days, {len(percent)} papers over "
        f"{len(set(days.values()))} days; percentile within the day, AUC 0.5 = chance, "
        "p: Mann-Whitney U, listed > rest)"
    )
    print(
        f"{'topic':15s} {'listed':>6s} {'rest':>6s} {'mean L':>7s} {'mean R':>7s} "
        f"{'med L':>6s} {'med R':>6s} {'AUC':>6s} {'p':>8s}"
    )
    topics = {**labels, "any list": set().union(*labels.values())}
    for topic, listed in topics.items():
        compared = compare(percent, days, listed)
        if compared is None:
            print(f"{topic:15s} no listed paper in the pool")
            continue
        n_l, n_r, mean_l, mean_r, med_l, med_r, auc, p_value = compared
        print(
            f"{topic:15s} {n_l:6d} {n_r:6d} {mean_l:7.1f} {mean_r:7.1f} "
            f"{med_l:6.1f} {med_r:6.1f} {auc:6.3f} {p_value:8.2g}"
        )


if __name__ == "__main__":
    main()
