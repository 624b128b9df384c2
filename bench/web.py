"""Benchmark the web archive on a year of synthetic picks: build time, index size, search time.

    python bench/web.py [--days 250] [--picks-per-day 160] [--dev-set DIR]

Resamples the full real corpus into a year of announcement days (250 days x 160 picks = 40,000
by default), each pick with a summary built from the real Chinese summaries file, stores them
as rows, then times a full build of the archive, the incremental build of one more day, and
search in headless Chromium (/usr/bin/chromium). The corpus is the shared folder's, beside the
development set: DIR/../fixtures/arxiv/corpus/ (bench/dev_set.py says how DIR is found).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import dev_set
from sqlalchemy import Engine, insert

from paperradar.app import App
from paperradar.embed.embeddings import Embedder
from paperradar.profiles.profile import Profile
from paperradar.reports import StageReport
from paperradar.service.pipeline import run_stage
from paperradar.settings import Settings
from paperradar.store.db import create_db_engine, migrate
from paperradar.store.records import Digest, DigestItem, Match, Paper, Summary
from paperradar.store.states import SummaryStatus
from paperradar.web import stage as web
from paperradar.web.server import start_server, stop_server

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
TOPICS = {
    "model_merging": ("Model merging", "模型融合"),
    "self_evolution": ("Self-evolving agents", "自进化"),
    "long_context": ("Long context", "长上下文"),
    "reasoning": ("Reasoning", "推理"),
    "alignment": ("Alignment and safety", "对齐与安全"),
    "retrieval": ("Retrieval-augmented generation", "检索增强生成"),
    "multimodal": ("Multimodal models", "多模态"),
    "efficiency": ("Efficient inference", "高效推理"),
}
QUERIES = ("model merging", "reinforcement learning agent", "zhang", "模型", "推理 能力", "xyzzy")


def profile(picks_per_day: int) -> Profile:
    """A profile with eight topics that together take picks_per_day picks a day."""
    per_topic = -(-picks_per_day // len(TOPICS))
    return Profile.model_validate(
        {
            "name": "bench",
            "topics": {
                key: {"title": en, "title_zh": zh, "description": en, "max_picks": per_topic}
                for key, (en, zh) in TOPICS.items()
            },
        }
    )


def announcement_days(count: int, last: date) -> list[date]:
    """The last `count` weekdays up to `last`, oldest first."""
    days: list[date] = []
    day = last
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    return days[::-1]


def day_rows(
    day: date, number: int, corpus: list[dict[str, Any]], zh: list[dict[str, Any]], seed: int
) -> Iterator[dict[str, Any]]:
    """Yield one synthetic pick a paper: a resampled real paper under a fresh arXiv id."""
    pick = random.Random(seed)
    for index in range(number):
        source, summary = pick.choice(corpus), zh[index % len(zh)]
        yield {
            "id": f"{day:%y%m}.{day.day:02d}{index:03d}",
            "paper": source,
            "zh": summary["AI"],
            "topic": list(TOPICS)[index % len(TOPICS)],
            "rank": index // len(TOPICS) + 1,
            "percent": pick.randint(40, 99),
        }


def store_day(engine: Engine, profile_name: str, day: date, rows: list[dict[str, Any]]) -> None:
    """Insert a day's papers, matches, summaries, digest and items in a few bulk statements."""
    stamp = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=14)
    base = int(f"{day:%Y%m%d}") * 1000
    papers, matches, summaries, items = [], [], [], []
    for offset, row in enumerate(rows):
        source, text_sha = row["paper"], hashlib.sha256(row["id"].encode()).hexdigest()
        papers.append(
            {
                "arxiv_id": row["id"],
                "version": 1,
                "title": source["title"],
                "abstract": source["abstract"],
                "authors": source["authors"],
                "affiliations": [],
                "categories": source["categories"],
                "comment": source.get("comment"),
                "announce_type": "new",
                "first_announced_on": day,
                "last_announced_on": day,
                "text_sha": text_sha,
                "updated_at": stamp,
            }
        )
        matches.append(
            {
                "id": base + offset,
                "paper_id": row["id"],
                "profile": profile_name,
                "topic": row["topic"],
                "day": day,
                "score": row["percent"] / 100,
                "percent": row["percent"],
                "reason": f"keywords: {row['topic'].replace('_', ' ')}",
            }
        )
        summaries.append(
            {
                "paper_id": row["id"],
                "text_sha": text_sha,
                "model": "bench",
                "prompt_sha": "bench",
                "status": SummaryStatus.OK,
                "title_zh": row["zh"]["method"][:30],
                "tldr_zh": row["zh"]["tldr"],
                "tldr_en": source["abstract"].split(". ")[0],
                "why_by_topic": {row["topic"]: {"zh": row["zh"]["motivation"], "en": "On topic."}},
                "abstract_zh": row["zh"]["result"],
                "created_at": stamp,
            }
        )
        items.append(
            {
                "digest_id": base,
                "topic": row["topic"],
                "rank": row["rank"],
                "paper_id": row["id"],
                "match_id": base + offset,
            }
        )
    digest = {
        "id": base,
        "profile": profile_name,
        "day": day,
        "announced": True,
        "candidates": len(rows) * 6,
        "created_at": stamp,
    }
    with engine.begin() as connection:
        connection.execute(insert(Paper), papers)
        connection.execute(insert(Match), matches)
        connection.execute(insert(Summary), summaries)
        connection.execute(insert(Digest), [digest])
        connection.execute(insert(DigestItem), items)


def search_timings(site: Path) -> tuple[float, dict[str, tuple[int, float]]]:
    """Open the search page in Chromium; return the index load time and each query's timing."""
    from playwright.sync_api import sync_playwright

    server = start_server(site, "127.0.0.1", 0)
    port = server.server_address[1]
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/search.html")
            page.wait_for_function("typeof window.paperradarSearch === 'function'")
            loaded = page.evaluate("performance.now()")
            timings = {}
            for query in QUERIES:
                timings[query] = page.evaluate(
                    """(query) => {
                        const runs = [];
                        let found = 0;
                        for (let i = 0; i < 7; i++) {
                            const started = performance.now();
                            found = window.paperradarSearch(query).length;
                            runs.push(performance.now() - started);
                        }
                        runs.sort((a, b) => a - b);
                        return [found, runs[3]];
                    }""",
                    query,
                )
            browser.close()
    finally:
        stop_server(server)
    return loaded, {query: (int(found), float(ms)) for query, (found, ms) in timings.items()}


def load_sources(folder: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Read the real corpus and the real Chinese summaries (upstream failures left out)."""
    with (folder / "corpus_cs_cl_lg_ai_2025-09_2025-10.jsonl").open(encoding="utf-8") as lines:
        corpus = [json.loads(line) for line in lines]
    with (folder / "bilingual_zh_ai_summaries_cs_CL_2025-10-15.jsonl").open(
        encoding="utf-8"
    ) as lines:
        zh = [row for row in map(json.loads, lines) if row["AI"]["tldr"] != "Error"]
    return corpus, zh


def timed(function: Callable[[], StageReport]) -> tuple[StageReport, str]:
    """Call a build; return its report and its wall time, with the CPU time it used beside it.

    On a busy machine the wall time waits for other processes; the CPU time does not.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    report = function()
    return report, f"{time.perf_counter() - wall:.1f} s (cpu {time.process_time() - cpu:.1f})"


def _columns(text: str) -> int:
    """How many terminal columns text takes (a CJK character takes two)."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def print_table(rows: list[tuple[str, str]]) -> None:
    """Print label / value rows as two aligned columns."""
    width = max(_columns(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label}{' ' * (width - _columns(label))}  {value:>18s}")


def main() -> None:
    """Build the synthetic year, time the builds and the searches, print one table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=250)
    parser.add_argument("--picks-per-day", type=int, default=160)
    dev_set.add_arguments(parser, pool=False)
    args = parser.parse_args()
    corpus, zh = load_sources(dev_set.corpus_dir(args))
    days = announcement_days(args.days, date(2025, 10, 17))
    rows = [
        list(day_rows(day, args.picks_per_day, corpus, zh, seed)) for seed, day in enumerate(days)
    ]
    table: list[tuple[str, str]] = [("days x picks a day", f"{args.days} x {args.picks_per_day}")]
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(data_dir=Path(scratch), migrations_dir=ROOT / "db")
        engine = create_db_engine(settings.resolved_database_url)
        migrate(engine, settings.migrations_dir)
        for day, day_picks in zip(days[:-1], rows, strict=False):
            store_day(engine, "bench", day, day_picks)
        ctx = App(
            settings, engine, (profile(args.picks_per_day),), Embedder(settings.embedding), None
        )
        full, took = timed(lambda: web.rebuild(ctx.archive()))
        table.append((f"full build, {len(days) - 1} days ({full.written} files)", took))
        store_day(engine, "bench", days[-1], rows[-1])
        one, took = timed(lambda: run_stage(ctx, "web", days[-1]))
        table.append((f"incremental build of one more day ({one.written} files)", took))
        site = settings.web_dir
        files = [path for path in site.rglob("*") if path.is_file()]
        megabytes = sum(path.stat().st_size for path in files) / 1e6
        table.append((f"site: {len(files)} files", f"{megabytes:.0f} MB"))
        shards = list((site / "search").glob("*.js"))
        index_megabytes = sum(path.stat().st_size for path in shards) / 1e6
        label = (
            f"search index: {len(shards)} monthly shards ({len(days) * args.picks_per_day} picks)"
        )
        table.append((label, f"{index_megabytes:.1f} MB"))
        loaded, timings = search_timings(site)
    table.append(("search page ready (load + parse the index)", f"{loaded:.0f} ms"))
    for query, (found, ms) in timings.items():
        table.append((f"search {query!r}: {found} found (median of 7)", f"{ms:.1f} ms"))
    print_table([("web archive, a synthetic year", "result"), *table])


if __name__ == "__main__":
    main()
