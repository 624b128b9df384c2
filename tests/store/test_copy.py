from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine
from sqlmodel import select

from paperradar.cli.main import main
from paperradar.errors import ConfigError
from paperradar.store import locks
from paperradar.store.copy import copy_database
from paperradar.store.db import create_db_engine, migrate, session_scope
from paperradar.store.records import (
    Delivery,
    Digest,
    DigestItem,
    Embedding,
    FeedDay,
    Match,
    Paper,
    Run,
    Subscription,
)
from paperradar.store.states import AnnounceType, DayStatus, RunStatus

# Each test copies a populated database between two real databases.
pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = REPO_ROOT / "db"
DAY = date(2025, 10, 15)


def _fill(engine: Engine, papers: int = 2500) -> None:
    """Rows in every kind of table, more papers than one copy batch."""
    with session_scope(engine) as session:
        session.add(FeedDay(day=DAY, status=DayStatus.ANNOUNCED, source="file", new_count=papers))
        for n in range(papers):
            session.add(
                Paper(
                    arxiv_id=f"2510.{n:05d}",
                    title=f"Paper {n} — 模型融合",
                    abstract="An abstract with $x^2$ and <b>markup</b>.",
                    authors=["A. Author", "B. Autor"],
                    categories=["cs.CL"],
                    announce_type=AnnounceType.NEW,
                    first_announced_on=DAY,
                    text_sha=f"{n:064d}",
                )
            )
        session.flush()
        session.add(
            Embedding(
                paper_id="2510.00000", model="m", text_sha="0" * 64, dim=2, vector=b"\x00\x01"
            )
        )
        match = Match(
            paper_id="2510.00001",
            profile="default",
            topic="t",
            day=DAY,
            score=0.5,
            percent=70,
            reason="keywords: merging",
        )
        digest = Digest(profile="default", day=DAY, announced=True, candidates=papers)
        session.add_all([match, digest])
        session.flush()
        assert match.id is not None and digest.id is not None
        session.add(
            DigestItem(
                digest_id=digest.id, topic="t", rank=1, paper_id="2510.00001", match_id=match.id
            )
        )
        session.add(
            Subscription(channel="telegram", recipient="42", profile="default", topics=["t"])
        )
        session.add(Delivery(digest_id=digest.id, channel="telegram", recipient="42"))
        session.add(
            Run(
                day=DAY,
                status=RunStatus.OK,
                trigger="cli",
                holder="h",
                reports=[{"stage": "fetch", "written": papers}],
            )
        )


@pytest.fixture
def source(tmp_path: Path) -> Engine:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'source.sqlite3'}")
    migrate(engine, MIGRATIONS)
    _fill(engine)
    return engine


def test_copy_moves_every_row_and_new_rows_get_fresh_ids(source: Engine, engine: Engine) -> None:
    copied = copy_database(source, engine, MIGRATIONS)
    assert copied["paper"] == 2500
    assert copied["digestitem"] == copied["delivery"] == copied["run"] == 1
    with session_scope(engine) as session:
        paper = session.get_one(Paper, "2510.00007")
        assert paper.title == "Paper 7 — 模型融合"
        assert paper.authors == ["A. Author", "B. Autor"]
        assert paper.announce_type == AnnounceType.NEW
        run = session.exec(select(Run)).one()
        assert run.reports == [{"stage": "fetch", "written": 2500}]
        assert run.started_at.tzinfo is not None
        # The id sequences continue after the copied ids.
        later = Digest(
            profile="default", day=DAY + timedelta(days=1), announced=False, candidates=0
        )
        session.add(later)
        session.flush()
        assert later.id == 2


def test_copy_refuses_a_target_that_holds_rows(source: Engine, engine: Engine) -> None:
    _fill(engine, papers=2)
    with pytest.raises(ConfigError, match="not empty"):
        copy_database(source, engine, MIGRATIONS)


def test_copy_refuses_while_a_pipeline_run_holds_the_source(source: Engine, engine: Engine) -> None:
    assert locks.acquire(source, locks.PIPELINE, ttl=timedelta(minutes=2), now=datetime.now(UTC))
    try:
        with pytest.raises(ConfigError, match="stop `paperradar serve`"):
            copy_database(source, engine, MIGRATIONS)
    finally:
        locks.release(source, locks.PIPELINE)


def test_migrate_to_command_reports_counts_and_hides_the_password(
    source: Engine, tmp_path: Path
) -> None:
    target = tmp_path / "target.sqlite3"
    env = {
        "PAPERRADAR_DATABASE_URL": str(source.url),
        "PAPERRADAR_MIGRATIONS_DIR": str(MIGRATIONS),
        "PAPERRADAR_CONFIG": "",
    }
    result = CliRunner().invoke(main, ["db", "migrate-to", f"sqlite:///{target}"], env=env)
    assert result.exit_code == 0, result.output
    assert "paper: 2500 row(s)" in result.output
    assert "PAPERRADAR_DATABASE_URL" in result.output
    again = CliRunner().invoke(main, ["db", "migrate-to", f"sqlite:///{target}"], env=env)
    assert again.exit_code == 1
    assert "not empty" in again.output
