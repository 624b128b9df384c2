"""Shared fixtures: settings on tmp_path, a migrated database per backend, arXiv files, a model."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from support.openai_api import ChatServer, load_bilingual_day

from paperradar.context import Context
from paperradar.embeddings import Embedder
from paperradar.profiles import load_profiles
from paperradar.settings import EmbeddingSettings, LLMSettings, Settings
from paperradar.store import create_db_engine, migrate

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = Path(os.environ.get("PAPERRADAR_SHARED_DIR", REPO_ROOT.parent / "shared"))
POSTGRES_URL = os.environ.get(
    "PAPERRADAR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_unavailable_reason() -> str | None:
    url = make_url(POSTGRES_URL)
    try:
        with psycopg.connect(
            host=url.host, port=url.port, user=url.username, dbname=url.database, connect_timeout=3
        ):
            return None
    except psycopg.Error as error:
        return f"PostgreSQL not reachable at {url.host}:{url.port} ({type(error).__name__})"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The project's shared folder (real arXiv fixtures, the development set, seed papers)."""
    if not SHARED_DIR.is_dir():
        pytest.fail(f"shared folder not found at {SHARED_DIR} (set PAPERRADAR_SHARED_DIR)")
    return SHARED_DIR


@pytest.fixture(scope="session")
def arxiv_fixtures(shared_dir: Path) -> Path:
    """The folder of real arXiv RSS, API and OAI responses and the real paper corpus."""
    return shared_dir / "fixtures" / "arxiv"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a new database on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'paperradar.sqlite3'}"
        return
    reason = _postgres_unavailable_reason()
    if reason:
        pytest.skip(reason)
    server = make_url(POSTGRES_URL)
    name = f"paperradar_test_{uuid.uuid4().hex[:12]}"
    admin = dict(host=server.host, port=server.port, user=server.username, dbname=server.database)
    with psycopg.connect(**admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(**admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Settings on tmp_path with the repository's prompts, profiles and migrations."""
    return Settings(
        data_dir=tmp_path / "var",
        database_url=database_url,
        prompts_dir=REPO_ROOT / "prompts",
        profiles_dir=REPO_ROOT / "profiles",
        migrations_dir=REPO_ROOT / "db",
    )


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    """A migrated engine on the test database."""
    engine = create_db_engine(settings.resolved_database_url)
    migrate(engine, settings.migrations_dir)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real bundled all-MiniLM-L6-v2, loaded once per test session on the CPU."""
    return Embedder(EmbeddingSettings(device="cpu"))


@pytest.fixture(scope="session")
def _openai_httpserver() -> Iterator[HTTPServer]:
    """One threaded loopback HTTP server for the OpenAI-compatible fakes of a test session."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def chat_server(_openai_httpserver: HTTPServer) -> Iterator[ChatServer]:
    """A loopback OpenAI-compatible chat-completions server with nothing scripted yet."""
    _openai_httpserver.clear()
    yield ChatServer(_openai_httpserver)
    _openai_httpserver.clear()


@pytest.fixture
def llm_settings(chat_server: ChatServer) -> LLMSettings:
    """LLM settings pointing at the loopback server: quick timeouts, one client retry."""
    return LLMSettings(
        base_url=chat_server.base_url,
        model="qwen-test",
        timeout_seconds=5.0,
        max_retries=1,
        concurrency=4,
    )


@pytest.fixture(scope="session")
def bilingual_day(arxiv_fixtures: Path) -> list[dict[str, Any]]:
    """A real day (cs.CL, 2025-10-15) of upstream Chinese AI summaries beside their abstracts."""
    return load_bilingual_day(
        arxiv_fixtures / "corpus" / "bilingual_zh_ai_summaries_cs_CL_2025-10-15.jsonl"
    )


@pytest.fixture
def context(settings: Settings, engine: Engine, embedder: Embedder) -> Context:
    """A pipeline Context on the test database with the repository's profiles and no LLM."""
    return Context(
        settings=settings,
        engine=engine,
        profiles=load_profiles(settings.profiles_dir),
        embedder=embedder,
        llm=None,
    )
