"""SIGKILL a real `paperradar run` at 20 points across every stage, re-run it, check the outcome.

Each trial starts from a stored state, kills a `paperradar run --feed FILE` process at
one point (a database commit inside a stage, an LLM request in flight, a Telegram part the Bot
API has just accepted), runs it again to the end, and compares with an uninterrupted run:
every digest delivered, no paper summarised twice, at most one message part repeated.
The processes are forked from a warm parent that has imported PaperRadar and torch once
(support.crashpoints.WarmParent), which saves each of the 42 runs that import.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine
from sqlmodel import col, select
from support.bot_api import BotApiServer, bot_api_server
from support.crashpoints import (
    Child,
    CommitPoint,
    WarmParent,
    read_commit_log,
    write_sitecustomize,
)
from support.openai_api import (
    ChatRequest,
    ChatServer,
    Reply,
    Responder,
    draft_from_row,
    is_upstream_failure,
    json_completion,
)
from support.papers import json_lines

from paperradar.profiles.profile import load_profiles
from paperradar.readers.subscriptions import subscribe
from paperradar.store.db import create_db_engine, migrate, session_scope
from paperradar.store.records import Delivery, Digest, DigestItem, Paper, Run, Summary
from paperradar.store.states import DeliveryStatus, RunStatus, SummaryStatus

# Real processes killed at every commit point: minutes.
pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_FEED = REPO_ROOT / "src" / "paperradar" / "demo" / "cs_cl_lg_ai_2025-10-15.jsonl.gz"
DAY = date(2025, 10, 15)
CHAT = 777001
POINTS = 20
LLM_CONCURRENCY = 2
# Papers of that day the default profile picks, and how many others come along.
ON_TOPIC = ("2510.12784", "2510.12051", "2510.11967", "2510.12285", "2510.12722")
OTHERS = 7
# Killed while the second LLM request is in flight, and right after the Bot API accepts the
# digest's last part (n: how many parts the digest has).
SERVER_POINTS = ("llm-request-2", "bot-send-n")
# Stages whose points start from the state after embedding, so the child needs no model load.
# A copied state leaves behind the logs and hooks of the runs that made it.
LEFTOVERS = shutil.ignore_patterns("child-*.log", "commits-*.log", "hooks")
LATE_STAGES = ("scoring", "summaries", "digests", "archive", "web", "delivery", "pipeline")


@dataclass(frozen=True)
class Outcome:
    """What a finished run left: picks, summaries, deliveries, and what the servers saw."""

    picks: dict[str, list[tuple[str, str]]]
    summaries: dict[str, SummaryStatus]
    deliveries: list[DeliveryStatus]
    llm_requests: Counter[str]
    parts: Counter[str]


@dataclass
class Loopbacks:
    """The LLM and Telegram servers the child reaches, and the child they may kill."""

    chat: ChatServer
    bot: BotApiServer
    answer: Responder
    parent: WarmParent
    child: Child = field(default_factory=Child)

    def reset(self) -> None:
        """Forget earlier requests and any armed kill."""
        self.chat.requests.clear()
        self.chat.respond_with(self.answer)
        with self.bot.condition:
            self.bot.state.sent.clear()
        self.bot.on_send = None


def _feed(path: Path, bilingual_day: list[dict[str, Any]]) -> Path:
    """A small real feed: cs.CL papers of 2025-10-15 with valid real summaries, some on topic."""
    usable = {str(row["id"]) for row in bilingual_day if not is_upstream_failure(row)}
    papers = [row for row in json_lines(DEMO_FEED) if row["id"] in usable]
    on_topic = [row for row in papers if row["id"] in ON_TOPIC]
    rows = on_topic + [row for row in papers if row not in on_topic][:OTHERS]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def _env(folder: Path, loopbacks: Loopbacks, sitecustomize: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(folder),
        "PYTHONPATH": str(sitecustomize),
        "PAPERRADAR_CONFIG": "",
        "PAPERRADAR_DATA_DIR": str(folder / "var"),
        "PAPERRADAR_PROFILES_DIR": str(REPO_ROOT / "profiles"),
        "PAPERRADAR_PROMPTS_DIR": str(REPO_ROOT / "prompts"),
        "PAPERRADAR_MIGRATIONS_DIR": str(REPO_ROOT / "db"),
        "PAPERRADAR_EMBEDDING__DEVICE": "cpu",
        "PAPERRADAR_LLM__BASE_URL": loopbacks.chat.base_url,
        "PAPERRADAR_LLM__MODEL": "qwen-test",
        "PAPERRADAR_LLM__MAX_RETRIES": "0",
        "PAPERRADAR_LLM__TIMEOUT_SECONDS": "30",
        "PAPERRADAR_LLM__CONCURRENCY": str(LLM_CONCURRENCY),
        "PAPERRADAR_TELEGRAM__BOT_TOKEN": loopbacks.bot.token,
        "PAPERRADAR_TELEGRAM__BASE_URL": loopbacks.bot.base_url,
        "PAPERRADAR_TELEGRAM__MAX_RETRIES": "0",
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }


def _engine(folder: Path) -> Engine:
    return create_db_engine(f"sqlite:///{folder / 'var' / 'paperradar.sqlite3'}")


def _empty_state(folder: Path) -> Path:
    """A migrated database with one Telegram subscriber of the default profile."""
    engine = _engine(folder)
    migrate(engine, REPO_ROOT / "db")
    profile = next(p for p in load_profiles(REPO_ROOT / "profiles") if p.name == "default")
    with session_scope(engine) as session:
        subscribe(session, channel="telegram", recipient=str(CHAT), profile=profile)
    engine.dispose()
    return folder


def _run(
    folder: Path, loopbacks: Loopbacks, feed: Path, target: CommitPoint | None
) -> tuple[int, list[CommitPoint]]:
    child = Child()
    loopbacks.child = child
    log = folder / f"commits-{len(list(folder.glob('commits-*')))}.log"
    hooks = write_sitecustomize(folder / "hooks", target, log)
    result = loopbacks.parent.run(
        child,
        ["run", "--feed", str(feed), "--day", DAY.isoformat()],
        _env(folder, loopbacks, hooks),
        cwd=folder,
        hooks=hooks,
    )
    if result.returncode not in (0, -signal.SIGKILL):
        pytest.fail(f"paperradar run exited {result.returncode}:\n{result.stderr[-3000:]}")
    return result.returncode, read_commit_log(log)


def _outcome(folder: Path, loopbacks: Loopbacks) -> Outcome:
    engine = _engine(folder)
    with session_scope(engine) as session:
        picks: dict[str, list[tuple[str, str]]] = {}
        for digest in session.exec(select(Digest)):
            items = session.exec(select(DigestItem).where(DigestItem.digest_id == digest.id))
            picks[digest.profile] = sorted((item.topic, item.paper_id) for item in items)
        summaries = {row.paper_id: row.status for row in session.exec(select(Summary))}
        deliveries = [row.status for row in session.exec(select(Delivery))]
        runs = session.exec(select(Run)).all()
    engine.dispose()
    assert runs[-1].status == RunStatus.OK, runs[-1].error
    assert all(run.status != RunStatus.RUNNING for run in runs)
    with loopbacks.bot.condition:
        parts = Counter(sent.text for sent in loopbacks.bot.state.sent)
    titles = Counter(" ".join(request.title.split()) for request in loopbacks.chat.requests)
    return Outcome(picks, summaries, deliveries, titles, parts)


def _choose_points(commits: list[CommitPoint]) -> list[CommitPoint | str]:
    """Spread the kill points over every stage, in pipeline order, plus the server points."""
    by_stage: dict[str, list[CommitPoint]] = {}
    for point in commits:
        by_stage.setdefault(point.stage, []).append(point)
    wanted = POINTS - len(SERVER_POINTS)
    chosen: list[CommitPoint] = []
    round_ = 0
    while len(chosen) < wanted and any(len(points) > round_ for points in by_stage.values()):
        for points in by_stage.values():
            if len(points) > round_ and len(chosen) < wanted:
                # Take each stage's points from both ends inward: first, last, second, ...
                index = round_ // 2 if round_ % 2 == 0 else len(points) - 1 - round_ // 2
                if points[index] not in chosen:
                    chosen.append(points[index])
        round_ += 1
    order = {point: n for n, point in enumerate(commits)}
    return [*sorted(chosen, key=order.__getitem__), *SERVER_POINTS]


def _answer_by_title(rows: list[dict[str, Any]]) -> Responder:
    """Answer with the real upstream summary of the paper the request names."""
    by_title = {" ".join(str(row["title"]).split()): row for row in rows}

    def respond(request: ChatRequest) -> Reply:
        row = by_title[" ".join(request.title.split())]
        return json_completion(draft_from_row(row, request.topic_keys))

    return respond


@pytest.fixture
def loopbacks(bilingual_day: list[dict[str, Any]]) -> Iterator[Loopbacks]:
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    chat = ChatServer(server)
    answer = _answer_by_title(bilingual_day)
    chat.respond_with(answer)
    parent = WarmParent()
    try:
        with bot_api_server() as bot:
            yield Loopbacks(chat, bot, answer, parent)
    finally:
        parent.close()
        server.clear()
        server.stop()


def _arm_server_point(point: str, loopbacks: Loopbacks, reference: Outcome) -> None:
    """Kill the child from inside a server handler, at the n-th request of that kind."""
    kind, _, nth = point.rpartition("-")
    kill_at = sum(reference.parts.values()) if nth == "n" else int(nth)
    calls = [0]

    def count_and_kill() -> None:
        calls[0] += 1
        if calls[0] == kill_at:
            loopbacks.child.kill()

    if kind == "llm-request":

        def respond(request: ChatRequest) -> Reply:
            count_and_kill()  # the request is in flight; its reply never arrives
            return loopbacks.answer(request)

        loopbacks.chat.respond_with(respond)
    else:
        # The chat has the part; the sender dies before it can record that.
        loopbacks.bot.on_send = lambda _sent: count_and_kill()


def _summarised(folder: Path) -> set[str]:
    """The titles of the papers whose summaries the database holds."""
    engine = _engine(folder)
    with session_scope(engine) as session:
        titles = session.exec(
            select(Paper.title).join(Summary, col(Summary.paper_id) == Paper.arxiv_id)
        ).all()
    engine.dispose()
    return {" ".join(title.split()) for title in titles}


def _check(trial: Outcome, reference: Outcome, point: object, *, kept: set[str]) -> None:
    """Compare a crashed-and-resumed trial with the reference run."""
    where = f"after a crash at {point}"
    assert trial.picks == reference.picks, where
    assert trial.summaries == reference.summaries, where
    assert trial.deliveries and set(trial.deliveries) == {DeliveryStatus.SENT}, where
    assert set(trial.parts) == set(reference.parts), f"{where}: a part is missing"
    repeated_parts = sum(count - 1 for count in trial.parts.values())
    assert repeated_parts <= 1, f"{where}: {repeated_parts} part(s) repeated"
    # A summary stored before the crash is never asked for again: only the requests in flight
    # and the replies not yet committed are repeated.
    asked_again = {title for title, count in trial.llm_requests.items() if count > 1}
    assert not asked_again & kept, f"{where}: a stored summary was asked for again"


def test_sigkill_at_20_points_then_rerun_delivers_every_digest_once(
    tmp_path: Path, loopbacks: Loopbacks, bilingual_day: list[dict[str, Any]]
) -> None:
    feed = _feed(tmp_path / "feed.jsonl", bilingual_day)
    empty = _empty_state(tmp_path / "empty")
    reference_dir = tmp_path / "reference"
    shutil.copytree(empty, reference_dir, ignore=LEFTOVERS)
    code, commits = _run(reference_dir, loopbacks, feed, None)
    assert code == 0
    reference = _outcome(reference_dir, loopbacks)
    assert reference.summaries and reference.parts, "the reference run picked nothing to send"
    assert set(reference.summaries.values()) == {SummaryStatus.OK}
    assert {point.stage for point in commits} >= {"fetch", "embeddings", "summaries", "delivery"}

    # The state right after embedding, left by a run killed as scoring began.
    embedded = tmp_path / "embedded"
    shutil.copytree(empty, embedded, ignore=LEFTOVERS)
    first_score = next(point for point in commits if point.stage == "scoring")
    assert _run(embedded, loopbacks, feed, first_score)[0] == -signal.SIGKILL

    points = _choose_points(commits)
    assert len(points) == POINTS
    stages = {point.stage for point in points if isinstance(point, CommitPoint)}
    assert stages == {point.stage for point in commits}, "a stage has no kill point"
    for n, point in enumerate(points):
        late = not isinstance(point, CommitPoint) or point.stage in LATE_STAGES
        trial_dir = tmp_path / f"trial-{n:02d}"
        shutil.copytree(embedded if late else empty, trial_dir, ignore=LEFTOVERS)
        loopbacks.reset()
        if isinstance(point, CommitPoint):
            code, _ = _run(trial_dir, loopbacks, feed, point)
        else:
            _arm_server_point(point, loopbacks, reference)
            code, _ = _run(trial_dir, loopbacks, feed, None)
            loopbacks.chat.respond_with(loopbacks.answer)
            loopbacks.bot.on_send = None
        assert code == -signal.SIGKILL, f"the run was not killed at {point}"
        kept = _summarised(trial_dir)
        assert _run(trial_dir, loopbacks, feed, None)[0] == 0
        _check(_outcome(trial_dir, loopbacks), reference, point, kept=kept)
