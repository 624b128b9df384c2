"""Measure PaperRadar at scale: N subscribers with 5 topics each, one 1,300-paper day.

    python bench/scale.py [--subscribers 10000] [--topics 5] [--mode shared|own]
                          [--send-subscribers 1000] [--no-send] [--plan-growth]
                          [--dev-set DIR] [--pool FILE]

`--mode shared` (default): a shared profile of 20 research interests; each subscriber reads 5
of them, so the day is scored and composed once and fanned out per subscriber. `--mode own`:
each subscriber writes 5 topics of their own (CustomTopic rows), so scoring and composing run
once per subscriber. The day is the development pool's largest day topped up from the next
ones. Digests fan out through the outbox to a loopback Bot API that enforces Telegram's limits
(30 messages/s overall, one message/s per chat; over that, 429 with retry_after); sending is
timed for the first `--send-subscribers` at 09:00 (the others' delivery time is moved to 09:30,
so they wait), and the table projects the whole fan-out from the measured rate. Prints one table
of seconds per step. bench/dev_set.py says where the development set is found.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import random
import tempfile
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import dev_set
from aiohttp import web
from bench_settings import bench_settings
from sqlalchemy import delete, func, update
from sqlmodel import col, select

from paperradar.app import App, build_app, with_current_profiles
from paperradar.deliver import outbox as delivery
from paperradar.service import calendar as schedule
from paperradar.service.pipeline import run_stage
from paperradar.settings import (
    ArxivSettings,
    EmbeddingSettings,
    ScheduleSettings,
    TelegramSettings,
)
from paperradar.store.db import session_scope
from paperradar.store.records import CustomTopic, Delivery, Digest, Subscription

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:BENCH-token"
DAY = "2026-02-03"
INTERESTS = [
    ("Model merging", "Merging fine-tuned models into one", ["model merging", "task arithmetic"]),
    ("Long context", "Extending context windows of LLMs", ["long context", "context window"]),
    ("Self-improvement", "Models that improve from their own output", ["self-improving"]),
    ("RAG", "Retrieval-augmented generation", ["retrieval-augmented", "RAG"]),
    ("LLM agents", "Tool-using autonomous LLM agents", ["agent", "tool use"]),
    ("Reasoning", "Chain-of-thought and math reasoning", ["chain-of-thought", "reasoning"]),
    ("Alignment", "RLHF and preference optimisation", ["RLHF", "DPO", "preference"]),
    ("Efficient inference", "Quantisation and fast decoding", ["quantization", "speculative"]),
    ("Multimodal", "Vision-language models", ["vision-language", "multimodal"]),
    ("Evaluation", "Benchmarks for language models", ["benchmark", "evaluation"]),
    ("Safety", "Jailbreaks and red teaming", ["jailbreak", "red teaming"]),
    ("Code generation", "LLMs writing programs", ["code generation", "program synthesis"]),
    ("Speech", "Speech recognition and synthesis", ["speech", "ASR"]),
    ("Graphs", "Graph neural networks", ["graph neural network", "GNN"]),
    ("Diffusion", "Diffusion generative models", ["diffusion model"]),
    ("Federated learning", "Training across devices privately", ["federated learning"]),
    ("Interpretability", "Mechanistic interpretability of networks", ["interpretability"]),
    ("Machine translation", "Translating between languages", ["machine translation"]),
    ("Reinforcement learning", "Policy optimisation and RL", ["reinforcement learning"]),
    ("Mixture of experts", "Sparse expert models", ["mixture of experts", "MoE"]),
]


class LimitedBotApi:
    """A loopback Bot API that accepts sendMessage within Telegram's limits, else answers 429."""

    def __init__(self, *, overall_per_second: int = 30, chat_interval: float = 1.0) -> None:
        self.overall_per_second = overall_per_second
        self.chat_interval = chat_interval
        self.recent: deque[float] = deque()
        self.last_by_chat: dict[int, float] = {}
        self.counts: Counter[str] = Counter()
        self.port = 0
        self._ready = threading.Event()

    def start(self) -> None:
        """Serve in a background thread."""
        threading.Thread(target=self._serve, daemon=True).start()
        self._ready.wait(10)

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._dispatch)
        runner = web.AppRunner(app)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", 0).start())
        self.port = runner.addresses[0][1]
        self._ready.set()
        loop.run_forever()

    async def _dispatch(self, request: web.Request) -> web.Response:
        params = dict(await request.post())
        if request.match_info["method"] == "getMe":
            return _ok({"id": 1, "is_bot": True, "first_name": "Bench", "username": "bench_bot"})
        chat = int(str(params["chat_id"]))
        now = time.monotonic()
        while self.recent and now - self.recent[0] >= 1.0:
            self.recent.popleft()
        too_soon = now - self.last_by_chat.get(chat, -10.0) < self.chat_interval
        if len(self.recent) >= self.overall_per_second or too_soon:
            self.counts["429"] += 1
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests: retry after 1",
                    "parameters": {"retry_after": 1},
                },
                status=429,
            )
        self.recent.append(now)
        self.last_by_chat[chat] = now
        self.counts["sent"] += 1
        message = {
            "message_id": self.counts["sent"],
            "date": int(time.time()),
            "chat": {"id": chat, "type": "private"},
            "text": str(params.get("text", "")),
        }
        return _ok(message)


def _ok(result: object) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def load_papers(pool: Path, count: int) -> list[dict[str, Any]]:
    """The pool's largest day, topped up from the next largest ones, all dated that day."""
    with gzip.open(pool, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    by_day = Counter(str(row["date"]) for row in rows)
    ordered = sorted(rows, key=lambda row: (-by_day[str(row["date"])], str(row["date"])))
    return [{**row, "date": DAY} for row in ordered[:count]]


def write_shared_profile(folder: Path) -> Path:
    """A shared profile with every interest as a topic."""
    topics = {
        f"t{n:02d}": {"title": title, "description": description, "keywords": keywords}
        for n, (title, description, keywords) in enumerate(INTERESTS)
    }
    folder.mkdir(parents=True, exist_ok=True)
    profile = {"name": "bench", "languages": ["en"], "topics": topics}
    (folder / "bench.yaml").write_text(json.dumps(profile), encoding="utf-8")
    return folder


def add_readers(ctx: App, count: int, topics: int) -> None:
    """Create the subscribers of the shared profile, each reading some of its topics."""
    chooser = random.Random(7)
    keys = [f"t{n:02d}" for n in range(len(INTERESTS))]
    with session_scope(ctx.engine) as session:
        session.add_all(
            Subscription(
                channel="telegram",
                recipient=str(100_000 + n),
                profile="bench",
                topics=sorted(chooser.sample(keys, topics)),
            )
            for n in range(count)
        )


def add_subscribers(ctx: App, count: int, topics: int) -> None:
    """Create the subscribers, each with its own topics (a profile of its own)."""
    chooser = random.Random(7)
    with session_scope(ctx.engine) as session:
        subscriptions = [
            Subscription(
                channel="telegram", recipient=str(100_000 + n), profile="default", topics=[]
            )
            for n in range(count)
        ]
        session.add_all(subscriptions)
        session.flush()
        for subscription in subscriptions:
            for index, (title, description, keywords) in enumerate(
                chooser.sample(INTERESTS, topics)
            ):
                session.add(
                    CustomTopic(
                        profile=f"sub-{subscription.id}",
                        key=f"t{index}",
                        title=title,
                        description=description,
                        keywords=keywords,
                    )
                )


def plan_growth(ctx: App, sizes: list[int]) -> list[tuple[str, float, str]]:
    """Time planning the outbox for N own-topic subscribers' digests (no scoring needed)."""
    rows: list[tuple[str, float, str]] = []
    for count in sizes:
        with session_scope(ctx.engine) as session:
            for table in (Delivery, Digest, CustomTopic, Subscription):
                session.execute(delete(table))
        add_subscribers(ctx, count, 5)
        day = date.fromisoformat(DAY)
        own = with_current_profiles(ctx)
        with session_scope(own.engine) as session:
            session.add_all(
                Digest(profile=profile.name, day=day, announced=True, candidates=0)
                for profile in own.profiles
                if profile.name.startswith("sub-")
            )
        with session_scope(own.engine) as session:
            started = time.perf_counter()
            planned = delivery.plan_deliveries(session, own.outbox(), day)
            seconds = time.perf_counter() - started
        rows.append((f"plan outbox, {count} own digests", seconds, f"{planned} deliveries"))
        print(f"plan {count}: {seconds:.2f} s", flush=True)
    return rows


def timed(rows: list[tuple[str, float, str]], step: str, action: Callable[[], object]) -> object:
    """Run one step, note its seconds and what it reported."""
    started = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - started
    line = result.line() if hasattr(result, "line") else ""
    rows.append((step, seconds, line))
    print(f"{step}: {seconds:.1f} s {line}", flush=True)
    return result


def main() -> None:
    """Run the steps and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--topics", type=int, default=5)
    parser.add_argument("--papers", type=int, default=1300)
    parser.add_argument("--mode", choices=("shared", "own"), default="shared")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--no-send", action="store_true", help="Stop after planning the outbox.")
    parser.add_argument(
        "--send-subscribers",
        type=int,
        default=1000,
        help="Time sending to this many subscribers; project the rest from their rate.",
    )
    parser.add_argument(
        "--plan-growth",
        action="store_true",
        help="Only time planning the outbox for 500, 1000 and 2000 own-topic subscribers.",
    )
    dev_set.add_arguments(parser)
    args = parser.parse_args()
    pool = dev_set.pool(args)

    folder = Path(tempfile.mkdtemp(prefix="paperradar-scale-"))
    feed = folder / "day.jsonl"
    feed.write_text("".join(json.dumps(row) + "\n" for row in load_papers(pool, args.papers)))
    bot = LimitedBotApi()
    bot.start()
    settings = bench_settings(
        folder / "var",
        database_url=args.database_url,
        profiles_dir=write_shared_profile(folder / "profiles"),
        arxiv=ArxivSettings(feed_file=feed),
        embedding=EmbeddingSettings(device="cpu"),
        telegram=TelegramSettings(
            bot_token=TOKEN, base_url=f"http://127.0.0.1:{bot.port}/bot", max_retries=5
        ),
        schedule=ScheduleSettings(lock_seconds=3600),
    )
    ctx = build_app(settings)
    day = date.fromisoformat(DAY)
    rows: list[tuple[str, float, str]] = []
    if args.plan_growth:
        sizes = [500, 1000, 2000]
        print("| step | seconds | ms per subscriber | reported |\n|---|---:|---:|---|")
        for (step, seconds, line), count in zip(plan_growth(ctx, sizes), sizes, strict=True):
            print(f"| {step} | {seconds:.1f} | {1000 * seconds / count:.2f} | {line} |")
        return
    add = add_readers if args.mode == "shared" else add_subscribers
    timed(
        rows,
        f"subscribers ({args.subscribers} x {args.topics} {args.mode} topics)",
        lambda: add(ctx, args.subscribers, args.topics),
    )
    for name, stage in (("seeds", "seeds"), ("fetch", "fetch"), ("embed", "embeddings")):
        timed(rows, name, lambda stage=stage: run_stage(ctx, stage, day))  # type: ignore[misc]
    ctx = timed(rows, "load profiles", lambda: with_current_profiles(ctx))  # type: ignore[assignment]
    timed(rows, "score", lambda: run_stage(ctx, "scoring", day))
    timed(rows, "compose", lambda: run_stage(ctx, "digests", day))
    with session_scope(ctx.engine) as session:
        timed(rows, "plan outbox", lambda: delivery.plan_deliveries(session, ctx.outbox(), day))
    if not args.no_send:
        send_some(ctx, day, rows, args.send_subscribers)
    print(
        f"\n{args.subscribers} subscribers x {args.topics} {args.mode} topics, "
        f"{args.papers} papers; Bot API: {dict(bot.counts)}\n"
    )
    print_table(rows, args.subscribers)


def send_some(ctx: App, day: date, rows: list[tuple[str, float, str]], count: int) -> None:
    """Send the digests of the first `count` subscribers; project the whole outbox's time."""
    with session_scope(ctx.engine) as session:
        session.execute(
            update(Subscription).where(col(Subscription.id) > count).values(delivery_time="09:30")
        )
        total = session.exec(select(func.count()).select_from(Delivery)).one()
    morning = schedule.first_delivery_at(day, "09:00", ctx.settings.schedule)
    started = time.perf_counter()
    report = delivery.deliver_due(ctx.outbox(), now=morning, day=day)
    seconds = time.perf_counter() - started
    rows.append((f"send to {count} subscribers (Bot API limits)", seconds, report.line()))
    with session_scope(ctx.engine) as session:
        sent = [len(row.parts) for row in session.exec(select(Delivery)) if row.parts]
    rate = sum(sent) / seconds
    mean_parts = sum(sent) / max(len(sent), 1)
    projected = total * mean_parts / rate
    rows.append(
        (
            f"send to all {total} (projected)",
            projected,
            f"{rate:.1f} parts/s, {mean_parts:.1f} parts per digest",
        )
    )
    print(f"sent {sum(sent)} parts in {seconds:.1f} s ({rate:.1f}/s)", flush=True)


def print_table(rows: list[tuple[str, float, str]], subscribers: int) -> None:
    """Print the steps as a Markdown table."""
    print("| step | seconds | ms per subscriber | reported |\n|---|---:|---:|---|")
    for step, seconds, line in rows:
        per = 1000 * seconds / max(subscribers, 1)
        print(f"| {step} | {seconds:.1f} | {per:.2f} | {line} |")


if __name__ == "__main__":
    main()
