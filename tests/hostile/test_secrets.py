"""Distinctive secrets, every failure that could echo them, and a search of every output."""

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, MetaData, select
from sqlalchemy.engine import make_url
from support.bot_api import BotApiServer
from support.openai_api import ChatServer, api_error
from support.processes import child_env

from paperradar.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_FEED = REPO_ROOT / "src" / "paperradar" / "demo" / "cs_cl_lg_ai_2025-10-16.jsonl.gz"
DAY = "2025-10-16"
BOT_TOKEN = "987654321:AAFdistinctiveBotTokenValue_0123456789"
LLM_KEY = "sk-distinctiveLlmKey0123456789abcdef"
SMTP_PASSWORD = "smtp-Distinctive-Password-42"
UNSUBSCRIBE_SECRET = "unsubscribe-distinctive-secret-0123456789abcdef"
WEBHOOK_KEY = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
DB_PASSWORD = "db-Distinctive-Password-42"
SECRETS = (BOT_TOKEN, LLM_KEY, SMTP_PASSWORD, UNSUBSCRIBE_SECRET, WEBHOOK_KEY, DB_PASSWORD)
ON_TOPIC = ("merg", "long-context", "long context", "self-evol", "self-improv")


def _small_feed(folder: Path) -> Path:
    """A few on-topic papers of the shipped day, so the digest has picks to deliver."""
    with gzip.open(DEMO_FEED, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    picked = [row for row in rows if any(k in str(row["title"]).lower() for k in ON_TOPIC)]
    path = folder / "day.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in picked[:12]), encoding="utf-8")
    return path


def _with_password(url: str) -> str:
    parsed = make_url(url)
    return (
        url
        if parsed.get_backend_name() == "sqlite"
        else parsed.set(password=DB_PASSWORD).render_as_string(hide_password=False)
    )


def _database_text(engine: Engine) -> str:
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        return "\n".join(
            repr(row)
            for table in metadata.sorted_tables
            for row in connection.execute(select(table))
        )


@pytest.mark.slow
def test_no_secret_reaches_output_logs_database_or_archive_after_failures(
    settings: Settings,
    engine: Engine,
    tmp_path: Path,
    chat_server: ChatServer,
    bot_api: BotApiServer,
) -> None:
    # The provider rejects the key and echoes it; the Bot API rejects the bot token.
    chat_server.respond_with(
        lambda _request: api_error(401, f"Incorrect API key provided: {LLM_KEY}")
    )
    env = child_env(
        settings,
        PAPERRADAR_DATABASE_URL=_with_password(settings.resolved_database_url),
        PAPERRADAR_LLM__BASE_URL=chat_server.base_url,
        PAPERRADAR_LLM__MODEL="qwen-test",
        PAPERRADAR_LLM__API_KEY=LLM_KEY,
        PAPERRADAR_LLM__MAX_RETRIES="0",
        PAPERRADAR_TELEGRAM__BOT_TOKEN=BOT_TOKEN,
        PAPERRADAR_TELEGRAM__BASE_URL=bot_api.base_url,
        PAPERRADAR_EMAIL__HOST="127.0.0.1",
        PAPERRADAR_EMAIL__SENDER="radar@example.org",
        PAPERRADAR_EMAIL__USERNAME="radar",
        PAPERRADAR_EMAIL__PASSWORD=SMTP_PASSWORD,
        PAPERRADAR_EMAIL__UNSUBSCRIBE_BASE_URL="https://radar.example.org/unsubscribe",
        PAPERRADAR_EMAIL__UNSUBSCRIBE_SECRET=UNSUBSCRIBE_SECRET,
        PAPERRADAR_WECOM__WEBHOOKS=json.dumps(
            {"lab": f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={WEBHOOK_KEY}"}
        ),
    )
    feed = str(_small_feed(tmp_path))

    def paperradar(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "paperradar", *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )

    steps = [
        paperradar("subscribers", "add", "--channel", "telegram", "1001"),
        paperradar("-v", "run", "--feed", feed, "--day", DAY),  # the LLM refuses the key
        paperradar("-v", "run", "--feed", feed, "--day", DAY, "--dry-run"),
        paperradar("-v", "deliver", "--day", DAY),  # Telegram refuses the token
        paperradar("-v", "status"),
        paperradar("-v", "deliveries"),
    ]

    assert [step.returncode for step in steps] == [0, 1, 0, 1, 0, 0], [
        s.stderr[-1500:] for s in steps
    ]
    outputs = "\n".join(step.stdout + step.stderr for step in steps)
    archive = "\n".join(
        path.read_text(encoding="utf-8", errors="replace")
        for path in (settings.data_dir / "web").rglob("*")
        if path.is_file()
    )
    stored = _database_text(engine)
    assert "API key" in outputs and "bot token" in outputs  # the failures did happen
    for secret in SECRETS:
        assert secret not in outputs
        assert secret not in stored
        assert secret not in archive
