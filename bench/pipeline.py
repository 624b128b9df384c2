"""Benchmark the embed stage against a bare encode, and a whole pipeline day cold and warm.

    python bench/pipeline.py [--pool ../shared/bench/dev_pool.jsonl.gz] [--day YYYY-MM-DD]

Takes the largest announcement day of the development pool (or --day), writes it as a JSONL
feed, and prints one table. The LLM is not configured, so summarise is skipped as in the demo.
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from sentence_transformers import SentenceTransformer

from paperradar import embeddings, fetch, pipeline
from paperradar.context import build_context
from paperradar.embeddings import paper_text, resolve_model_location
from paperradar.settings import ArxivSettings, Settings

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_POOL = ROOT.parent / "shared" / "bench" / "dev_pool.jsonl.gz"


def load_day(pool: Path, day: str | None) -> tuple[str, list[dict[str, object]]]:
    """Return the chosen (or largest) day of the pool and its papers."""
    with gzip.open(pool, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    chosen = day or Counter(str(row["date"]) for row in rows).most_common(1)[0][0]
    return chosen, [row for row in rows if row["date"] == chosen]


def settings_for(data_dir: Path, feed: Path) -> Settings:
    """Settings on a private data dir reading the day from a saved feed file."""
    return Settings(
        data_dir=data_dir,
        prompts_dir=ROOT / "prompts",
        profiles_dir=ROOT / "profiles",
        migrations_dir=ROOT / "db",
        arxiv=ArxivSettings(feed_file=feed),
    )


def timed(function: Callable[..., object], *args: object) -> float:
    """Call a function and return the seconds it took."""
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pool", type=Path, default=DEFAULT_POOL)
    parser.add_argument("--day")
    args = parser.parse_args()
    day_text, rows = load_day(args.pool, args.day)
    texts = [paper_text(str(row["title"]), str(row["abstract"])) for row in rows]
    with tempfile.TemporaryDirectory() as scratch:
        feed = Path(scratch) / f"{day_text}.jsonl"
        feed.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
        settings = settings_for(Path(scratch) / "embed", feed)

        model = SentenceTransformer(resolve_model_location(settings.embedding.model), device="cpu")
        model.encode(texts[:32])  # warm-up: first-call overheads are not throughput
        bare = timed(lambda: model.encode(texts, batch_size=settings.embedding.batch_size))

        ctx = build_context(settings)
        ctx.embedder.embed(texts[:32])
        day = fetch.latest_day(ctx)
        fetch.run(ctx, day)
        stage = timed(embeddings.run, ctx, day)

        cold_ctx = build_context(settings_for(Path(scratch) / "day", feed))
        cold = timed(pipeline.run_day, cold_ctx, day)
        warm = timed(pipeline.run_day, cold_ctx, day)

    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n = len(texts)
    print(f"day {day_text}: {n} papers, model {settings.embedding.model}, CPU")
    print(f"{'measure':44s} {'seconds':>9s} {'papers/s':>9s}")
    print("-" * 64)
    print(f"{'bare SentenceTransformer.encode':44s} {bare:9.1f} {n / bare:9.1f}")
    print(f"{'embed stage (encode + cache rows)':44s} {stage:9.1f} {n / stage:9.1f}")
    print(f"{'embed stage / bare encode (time ratio)':44s} {stage / bare:9.2f}")
    print(f"{'whole day, cold (fetch → web, no LLM)':44s} {cold:9.1f} {n / cold:9.1f}")
    print(f"{'whole day, warm (re-run, all cached)':44s} {warm:9.1f} {n / warm:9.1f}")
    print(f"{'peak memory (MiB)':44s} {peak_mib:9.0f}")


if __name__ == "__main__":
    main()
