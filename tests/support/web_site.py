"""A small real web archive for the web tests: two real days through the pipeline, zh summaries.

Both days come from the real corpus, 2025-10-14 and 2025-10-15; each keeps the papers likely
to be picked (the profile's keywords) plus, on 2025-10-15, every paper of the real Chinese
summaries file. A real model-merging paper of September is moved into each day so
that every topic has picks; the one on the second day gets a hostile title.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import select
from support.openai_api import draft_from_row, is_upstream_failure
from support.papers import json_lines

from paperradar.app import App
from paperradar.service import pipeline
from paperradar.service.pipeline import run_stage
from paperradar.store.db import session_scope
from paperradar.store.records import Digest, DigestItem, Paper, Summary
from paperradar.store.states import SummaryStatus

FIRST_DAY = date(2025, 10, 14)
SECOND_DAY = date(2025, 10, 15)
# Real merging papers of 2025-09, moved to the first and the second day.
MOVED = {"2509.11167": FIRST_DAY, "2509.12951": SECOND_DAY}
HOSTILE_ID = "2509.12951"
HOSTILE_MARKUP = (
    '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"> '
    '& "quotes" </title></p>'
)
KEYWORDS = (
    "model merging",
    "task arithmetic",
    "self-evol",
    "self-improv",
    "self-reward",
    "long-context",
    "long context",
    "context window",
)


@dataclass(frozen=True)
class WebArchive:
    """A built archive and the papers the tests look for in it."""

    ctx: App
    site: Path
    hostile_id: str
    hostile_title: str
    # A picked paper with a Chinese summary: (arxiv id, Chinese title).
    zh_id: str
    zh_title: str
    # Every paper picked on either day.
    picked_ids: frozenset[str]


def _likely_picks(rows: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    def on_topic(row: dict[str, Any]) -> bool:
        text = f"{row['title']} {row['abstract']}".lower()
        return any(keyword in text for keyword in KEYWORDS)

    return [row for row in rows if on_topic(row)][:limit]


def write_feed(corpus: Path, bilingual: list[dict[str, Any]], out: Path) -> None:
    """Write the two days as one JSONL feed."""
    corpus_rows = json_lines(corpus)
    moved = [
        {**row, "date": MOVED[row["id"]].isoformat()} for row in corpus_rows if row["id"] in MOVED
    ]
    for row in moved:
        if row["id"] == HOSTILE_ID:
            row["title"] = f"{row['title']} {HOSTILE_MARKUP}"
    first = _likely_picks([row for row in corpus_rows if row["date"] == FIRST_DAY.isoformat()], 40)
    day_two = [row for row in corpus_rows if row["date"] == SECOND_DAY.isoformat()]
    zh_ids = {row["id"] for row in bilingual}
    second = [row for row in day_two if row["id"] in zh_ids]
    second += [row for row in _likely_picks(day_two, 40) if row["id"] not in zh_ids]
    rows = first + second + moved
    out.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


def add_summaries(ctx: App, bilingual: list[dict[str, Any]]) -> None:
    """Store, for each pick of the real Chinese summaries file, the summary it would get."""
    by_id = {row["id"]: row for row in bilingual}
    with session_scope(ctx.engine) as session:
        picks = session.exec(
            select(DigestItem, Paper).join(Paper, DigestItem.paper_id == Paper.arxiv_id)  # type: ignore[arg-type]
        ).all()
        for item, paper in picks:
            row = by_id.get(paper.arxiv_id)
            if row is None:
                continue
            key = {"paper_id": paper.arxiv_id, "text_sha": paper.text_sha, "model": "qwen-test"}
            if is_upstream_failure(row):
                error = "reply did not match the summary contract"
                session.add(
                    Summary(**key, prompt_sha="0" * 64, status=SummaryStatus.FAILED, error=error)
                )
            else:
                draft = draft_from_row(row, [item.topic])
                session.add(Summary(**key, prompt_sha="0" * 64, status=SummaryStatus.OK, **draft))


def build_archive(ctx: App, bilingual: list[dict[str, Any]]) -> WebArchive:
    """Run the pipeline on both days, add the real summaries, and rebuild the second day's pages."""
    pipeline.run_day(ctx, FIRST_DAY)
    pipeline.run_day(ctx, SECOND_DAY)
    add_summaries(ctx, bilingual)
    run_stage(ctx, "web", SECOND_DAY)
    with session_scope(ctx.engine) as session:
        picked = set(session.exec(select(DigestItem.paper_id)).all())
        summaries = session.exec(select(Summary).where(Summary.status == SummaryStatus.OK)).all()
        days = set(session.exec(select(Digest.day)).all())
        hostile = session.get(Paper, HOSTILE_ID)
    if HOSTILE_ID not in picked or hostile is None or not summaries or len(days) != 2:
        raise AssertionError("the test archive lacks the hostile pick, a summary or a day")
    chosen = min(summaries, key=lambda summary: summary.paper_id)
    return WebArchive(
        ctx=ctx,
        site=ctx.settings.web_dir,
        hostile_id=HOSTILE_ID,
        hostile_title=hostile.title,
        zh_id=chosen.paper_id,
        zh_title=chosen.title_zh or "",
        picked_ids=frozenset(picked),
    )
