"""Time one profile's scoring of a day with and without readers' votes.

    python bench/learning_speed.py [--dev-set DIR] [--pool FILE] [--data-dir var/bench]
                                   [--votes 0 20 200] [--repeats 5]

The score stage runs once per profile and day: it reads the profile's votes (👍 papers become
seeds routed to their topic, readers/topics.py), fits each voted topic's model and scores the
day (`score_candidates`). This times that path (`replay.Scorer.score`: the same two calls) for
the shipped profile on two development days, the largest and the one of median size, with
0, 20 and 200 votes per topic (half 👍, half 👎: the most a topic learns from is 100 of each,
learning.NEWEST_VOTES). The votes go to the papers the profile scores highest on the 5 days
before (cold, alternately 👍 and 👎): papers a reader was shown. Prints the median of
`--repeats` runs and the cost of the votes over cold.

It needs those days' papers and vectors: the ones missing from the data dir's database are
stored and embedded first (about 3,000 papers, minutes on two CPU cores; none when
bench/ranking.py has embedded the pool in that data dir).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

import dev_set
from bench_settings import bench_settings
from ranking import load_rows, pool_vectors
from replay import Day, Scorer, build_days

from paperradar.app import App, build_app
from paperradar.embed.embeddings import embed_missing
from paperradar.ingest.feeds import parse_feed
from paperradar.ingest.papers import store_reference_papers, stored_papers
from paperradar.profiles.profile import load_profile
from paperradar.store.db import session_scope

ROOT = Path(__file__).resolve().parents[1]
SOURCE_DAYS = 5


def store_and_embed(ctx: App, pool: Path, ids: Sequence[str]) -> int:
    """Store the pool's papers among `ids` (as bench/ranking.py does) and embed those whose
    current text has no vector yet; return how many were embedded."""
    wanted = set(ids)
    announcements = parse_feed(pool.read_bytes(), source=str(pool)).announcements
    with session_scope(ctx.engine) as session:
        store_reference_papers(session, [a for a in announcements if a.arxiv_id in wanted])
    with session_scope(ctx.engine) as session:
        return embed_missing(session, ctx.embedder, list(stored_papers(session, ids).values()))


def vote_targets(scorer: Scorer, sources: Sequence[Day], count: int) -> dict[str, list[str]]:
    """Per topic, the `count` papers of the source days the profile scores highest, cold."""
    scorer.reset("bench-speed-cold")
    scored: dict[str, list[tuple[float, str]]] = {key: [] for key in scorer.profile.topics}
    for day in sources:
        for match in scorer.score("bench-speed-cold", day.pool):
            scored[match.topic].append((match.score, match.paper_id))
    return {
        topic: [p for _, p in sorted(pairs, reverse=True)[:count]]
        for topic, pairs in scored.items()
    }


def seconds(scorer: Scorer, name: str, day: Day, repeats: int) -> float:
    """Median seconds of scoring the day for the bench profile `name` (one warm-up run first)."""
    scorer.score(name, day.pool)
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        scorer.score(name, day.pool)
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def main() -> None:
    """Embed what is missing, cast the votes, time the scoring and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    dev_set.add_arguments(parser)
    parser.add_argument("--profile", type=Path, default=ROOT / "profiles" / "default.yaml")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument("--votes", type=int, nargs="+", default=[0, 20, 200])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    pool = dev_set.pool(args)
    rows = load_rows(pool)
    by_day: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        by_day.setdefault(str(row["date"]), []).append(row)
    sizes = sorted(by_day, key=lambda d: (len(by_day[d]), d))
    timed = sorted({sizes[-1], sizes[len(sizes) // 2]})
    sources = [d for d in sorted(by_day) if d < timed[0]][-SOURCE_DAYS:]
    chosen = [row for d in [*sources, *timed] for row in by_day[d]]
    ctx = build_app(bench_settings(args.data_dir))
    ids = [str(row["id"]) for row in chosen]
    print(f"embedded {store_and_embed(ctx, pool, ids)} paper(s) that had no vector")
    days = {day.date: day for day in build_days(chosen, pool_vectors(ctx, ids))}
    scorer = Scorer(ctx.engine, ctx.embedder, load_profile(args.profile))
    targets = vote_targets(scorer, [days[d] for d in sources], max(args.votes))
    print(f"{'day':10s} {'papers':>6s} {'votes/topic':>11s} {'seconds':>8s} {'over cold':>9s}")
    for date in timed:
        cold = None
        for count in sorted({0, *args.votes}):
            name = f"bench-speed-{count}"
            scorer.reset(name)
            scorer.vote(
                name,
                [
                    (topic, paper, 1 if i % 2 == 0 else -1)
                    for topic, papers in targets.items()
                    for i, paper in enumerate(papers[:count])
                ],
            )
            median = seconds(scorer, name, days[date], args.repeats)
            cold = median if cold is None else cold
            print(
                f"{date:10s} {len(days[date].ids):6d} {count:11d} {median:8.3f} "
                f"{median - cold:+9.3f}"
            )
            scorer.reset(name)


if __name__ == "__main__":
    main()
