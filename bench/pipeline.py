"""Benchmark the embed stage against a bare encode, per backend, and a whole pipeline day.

    python bench/pipeline.py [--dev-set DIR] [--pool FILE] [--day YYYY-MM-DD]

Takes the largest announcement day of the development pool (or --day), writes it as a JSONL
feed, and prints one table. The LLM is not configured, so summarise is skipped as in the demo.
bench/dev_set.py says where the development set is found.
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
from typing import TypeVar

import dev_set
from bench_settings import bench_settings
from sentence_transformers import SentenceTransformer

from paperradar.app import build_app
from paperradar.embed.embeddings import resolve_model_location
from paperradar.ingest import fetch
from paperradar.service import pipeline
from paperradar.service.pipeline import run_stage
from paperradar.settings import ArxivSettings, EmbeddingSettings, Settings
from paperradar.text import paper_text

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")


def load_day(pool: Path, day: str | None) -> tuple[str, list[dict[str, object]]]:
    """Return the chosen (or largest) day of the pool and its papers."""
    with gzip.open(pool, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    chosen = day or Counter(str(row["date"]) for row in rows).most_common(1)[0][0]
    return chosen, [row for row in rows if row["date"] == chosen]


def settings_for(data_dir: Path, feed: Path, backend: str = "torch") -> Settings:
    """Settings on a private data dir reading the day from a saved feed file."""
    return bench_settings(
        data_dir,
        arxiv=ArxivSettings(feed_file=feed),
        embedding=EmbeddingSettings(backend=backend),
    )


def measured(function: Callable[..., T], *args: object) -> tuple[float, T]:
    """Call a function; return the seconds it took and what it returned."""
    started = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - started, result


def timed(function: Callable[..., object], *args: object) -> float:
    """Call a function and return the seconds it took."""
    return measured(function, *args)[0]


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    dev_set.add_arguments(parser)
    parser.add_argument("--day")
    args = parser.parse_args()
    day_text, rows = load_day(dev_set.pool(args), args.day)
    texts = [paper_text(str(row["title"]), str(row["abstract"])) for row in rows]
    with tempfile.TemporaryDirectory() as scratch:
        feed = Path(scratch) / f"{day_text}.jsonl"
        feed.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
        settings = settings_for(Path(scratch) / "embed", feed)

        model = SentenceTransformer(resolve_model_location(settings.embedding.model), device="cpu")
        model.encode(texts[:32])  # warm-up: first-call overheads are not throughput
        bare, reference = measured(
            lambda: model.encode(
                texts, batch_size=settings.embedding.batch_size, normalize_embeddings=True
            )
        )

        ctx = build_app(settings)
        ctx.embedder.embed(texts[:32])
        day = fetch.latest_day(ctx.settings)
        run_stage(ctx, "fetch", day)
        stage = timed(run_stage, ctx, "embeddings", day)

        int8_settings = settings_for(Path(scratch) / "int8", feed, backend="onnx-int8")
        int8_ctx = build_app(int8_settings)
        export = timed(int8_ctx.embedder.embed, texts[:32])  # the one-time export, warmed up
        bare_int8, int8 = measured(int8_ctx.embedder.embed, texts)
        cosines = (int8 * reference).sum(axis=1)
        run_stage(int8_ctx, "fetch", day)
        stage_int8 = timed(run_stage, int8_ctx, "embeddings", day)

        cold_ctx = build_app(settings_for(Path(scratch) / "day", feed))
        cold = timed(pipeline.run_day, cold_ctx, day)
        warm = timed(pipeline.run_day, cold_ctx, day)

    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n = len(texts)
    print(f"day {day_text}: {n} papers, model {settings.embedding.model}, CPU")
    print(f"{'measure':44s} {'seconds':>9s} {'papers/s':>9s}")
    print("-" * 64)
    table = [
        ("bare SentenceTransformer.encode", bare, n / bare),
        ("embed stage (encode + cache rows)", stage, n / stage),
        ("embed stage / bare encode (time ratio)", stage / bare, None),
        ("onnx-int8: one-time export of the model", export, None),
        ("onnx-int8: bare encode", bare_int8, n / bare_int8),
        ("onnx-int8: embed stage (encode + cache rows)", stage_int8, n / stage_int8),
        ("whole day, cold (fetch → web, no LLM)", cold, n / cold),
        ("whole day, warm (re-run, all cached)", warm, n / warm),
        ("peak memory (MiB)", peak_mib, None),
    ]
    for label, value, rate in table:
        print(f"{label:44s} {value:9.2f} " + (f"{rate:9.1f}" if rate is not None else ""))
    print(
        f"onnx-int8 vectors' cosine to torch's: min {cosines.min():.4f}, mean {cosines.mean():.4f}"
    )


if __name__ == "__main__":
    main()
