import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func
from sqlmodel import SQLModel, select
from support.papers import json_lines

from paperradar.app import App
from paperradar.compose.digests import view_digest
from paperradar.compose.rendering import render_text
from paperradar.embed.embeddings import Embedder
from paperradar.profiles.profile import load_profiles
from paperradar.service import pipeline
from paperradar.settings import ArxivSettings, Settings
from paperradar.store.db import session_scope
from paperradar.store.records import (
    Digest,
    DigestItem,
    Embedding,
    FeedDay,
    Match,
    Novelty,
    Paper,
    Summary,
)
from paperradar.web import stage as web

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_FEED = REPO_ROOT / "src" / "paperradar" / "demo" / "cs_cl_lg_ai_2025-10-16.jsonl.gz"
DEMO_DAY = date(2025, 10, 16)
TABLES: tuple[type[SQLModel], ...] = (
    Paper,
    FeedDay,
    Embedding,
    Novelty,
    Match,
    Summary,
    Digest,
    DigestItem,
)


def _context(settings: Settings, engine: Engine, embedder: Embedder, feed: Path) -> App:
    settings = settings.model_copy(update={"arxiv": ArxivSettings(feed_file=feed)})
    profiles = load_profiles(settings.profiles_dir)
    return App(settings=settings, engine=engine, profiles=profiles, embedder=embedder, llm=None)


def _counts(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as session:
        return {
            table.__name__: session.exec(select(func.count()).select_from(table)).one()
            for table in TABLES
        }


@pytest.fixture
def demo_context(settings: Settings, engine: Engine, embedder: Embedder) -> App:
    return _context(settings, engine, embedder, DEMO_FEED)


@pytest.fixture
def small_context(settings: Settings, engine: Engine, embedder: Embedder, tmp_path: Path) -> App:
    """The demo day cut to its first 60 papers: enough for re-run behaviour, quick to embed."""
    feed = tmp_path / "small.jsonl"
    feed.write_text(
        "".join(json.dumps(row) + "\n" for row in json_lines(DEMO_FEED)[:60]), encoding="utf-8"
    )
    return _context(settings, engine, embedder, feed)


@pytest.mark.slow
def test_demo_day_yields_picks_under_every_topic_with_percent_and_reason(
    demo_context: App,
) -> None:
    pipeline.run_day(demo_context, DEMO_DAY)
    profile = demo_context.profiles[0]
    with session_scope(demo_context.engine) as session:
        view = view_digest(session, profile=profile, day=DEMO_DAY)
    assert view is not None
    assert view.announced
    assert view.candidates == 295
    for section in view.sections:
        assert section.items, f"no picks for {section.key}"
        for item in section.items:
            assert section.topic.min_percent <= item.match.percent <= 100
            assert item.match.reason
            assert item.paper.arxiv_id not in profile.seed_ids
            assert item.summary is None
    assert web.day_page(demo_context.settings, profile.name, DEMO_DAY).is_file()


@pytest.mark.slow
def test_rerun_of_a_finished_day_writes_nothing(small_context: App) -> None:
    first = pipeline.run_day(small_context, DEMO_DAY)
    counts = _counts(small_context.engine)
    second = pipeline.run_day(small_context, DEMO_DAY)
    assert _counts(small_context.engine) == counts
    written = {report.stage: report.written for report in second}
    assert written["embed"] == written["novelty"] == written["compose"] == 0
    assert {report.stage for report in first} == {report.stage for report in second}


@pytest.mark.slow
def test_rerun_after_a_crash_between_stages_composes_the_digest_once(
    small_context: App,
) -> None:
    for stage in pipeline.STAGES[:4]:  # seeds, fetch, embed, novelty: then the process dies
        stage.run(small_context, DEMO_DAY)
    pipeline.run_day(small_context, DEMO_DAY)
    pipeline.run_day(small_context, DEMO_DAY)
    with session_scope(small_context.engine) as session:
        digests = session.exec(select(Digest)).all()
    assert [(digest.profile, digest.day) for digest in digests] == [("default", DEMO_DAY)]


def test_day_without_announcement_is_recorded_and_said_plainly(
    settings: Settings, engine: Engine, embedder: Embedder, tmp_path: Path
) -> None:
    rows = json_lines(DEMO_FEED)[:5]
    feed = tmp_path / "papers.jsonl"
    feed.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    ctx = _context(settings, engine, embedder, feed)
    saturday = date(2025, 10, 18)
    reports = pipeline.run_day(ctx, saturday)
    assert any("no arXiv announcement" in (report.note or "") for report in reports)
    with session_scope(engine) as session:
        view = view_digest(session, profile=ctx.profiles[0], day=saturday)
    assert view is not None
    assert not view.announced
    assert "10月18日 星期六 · arXiv 今天没有发布新论文" in render_text(view)
