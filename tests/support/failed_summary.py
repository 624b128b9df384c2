"""Web archives from a copy of the test database with a summary that failed naming its endpoint.

The reader must see a plain "summary unavailable"; the endpoint, the setting and the error go to
the log. The same copy is built twice: for the default (Chinese-first) profile and for the same
profile read in English only.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, replace
from pathlib import Path

from sqlmodel import select
from support.web_site import HOSTILE_ID, SECOND_DAY, WebArchive

from paperradar.app import App
from paperradar.store.db import create_db_engine, session_scope
from paperradar.store.records import Digest, DigestItem, Paper, Summary
from paperradar.store.states import SummaryStatus
from paperradar.web import stage as web

# What an LLM failure records: an endpoint, a setting name, an exception's text.
ENDPOINT_ERROR = (
    "LLM request to http://127.0.0.1:8000/v1/chat/completions failed: "
    "ConnectionRefusedError: [Errno 111] Connection refused "
    "(check PAPERRADAR_LLM__BASE_URL, llm.base_url)"
)
OPERATOR_DETAIL = (
    "PAPERRADAR_",
    "http://127.0.0.1",
    "base_url",
    "ConnectionRefusedError",
    "Errno",
    "Traceback",
    "reply did not match",
)


@dataclass(frozen=True)
class FailedSummarySites:
    """The two built sites, and the paper whose summary failed."""

    zh: Path
    en: Path
    failed_id: str
    log: str


def copy_database(archive: WebArchive, folder: Path) -> str:
    source = archive.ctx.settings.resolved_database_url.removeprefix("sqlite:///")
    target = folder / "copy.sqlite3"
    with sqlite3.connect(source) as reading, sqlite3.connect(target) as writing:
        reading.backup(writing)
    return f"sqlite:///{target}"


def fail_a_summary(url: str) -> str:
    """Store a failed summary for a pick of the second day that has none; return its id."""
    engine = create_db_engine(url)
    with session_scope(engine) as session:
        summarised = set(session.exec(select(Summary.paper_id)).all())
        rows = session.exec(
            select(Paper)
            .join(DigestItem, DigestItem.paper_id == Paper.arxiv_id)  # type: ignore[arg-type]
            .join(Digest, Digest.id == DigestItem.digest_id)  # type: ignore[arg-type]
            .where(Digest.day == SECOND_DAY)
        ).all()
        paper = next(p for p in rows if p.arxiv_id not in summarised | {HOSTILE_ID})
        session.add(
            Summary(
                paper_id=paper.arxiv_id,
                text_sha=paper.text_sha,
                model="qwen-test",
                prompt_sha="0" * 64,
                status=SummaryStatus.FAILED,
                error=ENDPOINT_ERROR,
            )
        )
    engine.dispose()
    return paper.arxiv_id


def build_site(ctx: App, url: str, out_dir: Path, languages: list[str]) -> App:
    settings = ctx.settings
    copied = settings.model_copy(
        update={"database_url": url, "web": settings.web.model_copy(update={"out_dir": out_dir})}
    )
    profiles = tuple(
        profile.model_copy(update={"languages": languages}) for profile in ctx.profiles
    )
    built = replace(ctx, settings=copied, engine=create_db_engine(url), profiles=profiles)
    try:
        web.rebuild(built.archive())
    finally:
        built.engine.dispose()
    return built


class LogLines(logging.Handler):
    """Every message logged while it is attached."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
