from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from paperradar.cli.main import main
from paperradar.errors import SourceUnavailableError
from paperradar.reports import StageReport
from paperradar.service import runs
from paperradar.settings import Settings
from paperradar.store import locks
from paperradar.store.db import session_scope
from paperradar.store.records import Delivery, Digest, Subscription, utc_now

REPO_ROOT = Path(__file__).resolve().parents[2]
DAY = date(2025, 10, 15)
TTL = timedelta(minutes=2)


def _status(settings: Settings) -> str:
    env = {
        "PAPERRADAR_DATABASE_URL": settings.resolved_database_url,
        "PAPERRADAR_MIGRATIONS_DIR": str(REPO_ROOT / "db"),
        "PAPERRADAR_CONFIG": "",
    }
    result = CliRunner().invoke(main, ["status"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_status_of_a_new_installation_says_there_is_nothing_yet(
    settings: Settings, engine: Engine
) -> None:
    output = _status(settings)
    assert "pipeline lock: free" in output
    assert "runs: none yet" in output
    assert "deliveries: none pending" in output


def test_status_shows_runs_with_stage_counts_failures_and_pending_deliveries(
    settings: Settings, engine: Engine
) -> None:
    with runs.recorded(engine, DAY, trigger="schedule", dry_run=False, lock_ttl=TTL) as log:
        log.begin("fetch")
        log.add(StageReport("fetch", written=311, details={"new": 300}))
        log.begin("summaries")
        log.add(StageReport("summarize", written=12, note="2 failed; retried on the next run"))
    with (
        pytest.raises(SourceUnavailableError),
        runs.recorded(
            engine, DAY + timedelta(1), trigger="retry", dry_run=False, lock_ttl=TTL
        ) as log,
    ):
        log.begin("fetch")
        raise SourceUnavailableError("rss.arxiv.org answered HTTP 503 after 3 retries")
    with session_scope(engine) as session:
        digest = Digest(profile="default", day=DAY, announced=True, candidates=311)
        session.add(digest)
        session.add(Subscription(channel="telegram", recipient="42", profile="default"))
        session.flush()
        assert digest.id is not None
        session.add(
            Delivery(
                digest_id=digest.id,
                channel="telegram",
                recipient="42",
                parts_total=3,
                parts_sent=1,
                attempts=2,
                last_error="part 2/3: Timed out",
                claimed_by="worker-2",
                claimed_until=utc_now() + timedelta(minutes=2),
            )
        )
    assert locks.acquire(engine, locks.PIPELINE, ttl=TTL)
    try:
        output = _status(settings)
    finally:
        locks.release(engine, locks.PIPELINE)
    assert f"pipeline lock: held by {locks.process_holder()}" in output
    assert "last 2 run(s):" in output
    newest, older = output.index("2025-10-16 failed"), output.index("2025-10-15 ok")
    assert newest < older
    assert "failed at fetch: SourceUnavailableError: rss.arxiv.org answered HTTP 503" in output
    assert "fetch 311" in output and "summarize 12" in output
    assert "summarize: 2 failed; retried on the next run" in output
    assert "deliveries: 1 pending" in output
    assert "telegram → 42: default 2025-10-15, pending, 1/3 part(s) sent, 2 attempt(s)" in output
    assert "last error: part 2/3: Timed out; being sent by worker-2" in output
