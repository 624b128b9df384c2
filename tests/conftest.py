"""Shared fixtures: settings on tmp_path, a migrated database per backend, arXiv files, a model."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
import pytest
from pydantic import SecretStr
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from support.bot_api import BotApiServer, bot_api_server
from support.embedding import SessionEmbedder
from support.openai_api import ChatServer, load_bilingual_day
from support.smtp import Certificate, make_certificate
from support.web_site import WebArchive, build_archive, write_feed
from support.wecom_api import WebhookServer

from paperradar.app import App
from paperradar.embed.embeddings import Embedder
from paperradar.profiles.profile import load_profiles
from paperradar.readers.unsubscribe import start_unsubscribe_server
from paperradar.settings import (
    ArxivSettings,
    EmailSettings,
    EmbeddingSettings,
    LLMSettings,
    Settings,
    WebSettings,
)
from paperradar.store.db import create_db_engine, migrate

if TYPE_CHECKING:
    from playwright.sync_api import Browser

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"
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
def fixtures_dir() -> Path:
    """The tests' own data, tests/fixtures: real arXiv responses, a development-set sample."""
    return FIXTURES_DIR


@pytest.fixture(scope="session")
def arxiv_fixtures(fixtures_dir: Path) -> Path:
    """Real arXiv RSS and API responses and real papers; see tests/fixtures/arxiv/SOURCES.md."""
    return fixtures_dir / "arxiv"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a new database on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'paperradar.sqlite3'}"
        return
    with postgres_database() as url:
        yield url


@contextmanager
def postgres_database() -> Iterator[str]:
    """Create a fresh database on the PostgreSQL server (or skip); drop it afterwards."""
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


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A database of each backend migrated once per test process, copied for every test."""
    sqlite = tmp_path_factory.mktemp("template") / "migrated.sqlite3"
    _migrated(f"sqlite:///{sqlite}")
    templates = {"sqlite": str(sqlite)}
    with ExitStack() as stack:
        if _postgres_unavailable_reason() is None:
            templates["postgresql"] = stack.enter_context(postgres_database())
            _migrated(templates["postgresql"])
        yield templates


def _migrated(url: str) -> None:
    engine = create_db_engine(url)
    migrate(engine, REPO_ROOT / "db")
    engine.dispose()


def _copy_template(url: str, templates: dict[str, str]) -> None:
    """Fill a test's empty database from the migrated template of its backend."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and not Path(parsed.database).exists():
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(templates["sqlite"], parsed.database)
        return
    template = make_url(templates["postgresql"]).database
    server = make_url(POSTGRES_URL)
    admin = dict(host=server.host, port=server.port, user=server.username, dbname=server.database)
    with psycopg.connect(**admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE "{parsed.database}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{parsed.database}" TEMPLATE "{template}"')


@pytest.fixture
def engine(settings: Settings, migrated_templates: dict[str, str]) -> Iterator[Engine]:
    """A migrated engine on the test database (a copy of the migrated template)."""
    _copy_template(settings.resolved_database_url, migrated_templates)
    engine = create_db_engine(settings.resolved_database_url)
    migrate(engine, settings.migrations_dir)  # a no-op on the template's schema
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real bundled all-MiniLM-L6-v2, loaded once per test session on the CPU."""
    return SessionEmbedder(EmbeddingSettings(device="cpu"))


def _threaded_loopback_server() -> Iterator[HTTPServer]:
    """Run one threaded HTTP server on a free loopback port until the fixture ends."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture(scope="session")
def _openai_httpserver() -> Iterator[HTTPServer]:
    """One threaded loopback HTTP server for the OpenAI-compatible fakes of a test session."""
    yield from _threaded_loopback_server()


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
def context(settings: Settings, engine: Engine, embedder: Embedder) -> App:
    """A pipeline App on the test database with the repository's profiles and no LLM."""
    return App(
        settings=settings,
        engine=engine,
        profiles=load_profiles(settings.profiles_dir),
        embedder=embedder,
        llm=None,
    )


# --- WeCom and email channels ----------------------------------------------------------------


@pytest.fixture(scope="session")
def _wecom_httpserver() -> Iterator[HTTPServer]:
    """One threaded loopback HTTP server for the WeCom webhook fakes of a test session."""
    yield from _threaded_loopback_server()


@pytest.fixture
def wecom_webhook(_wecom_httpserver: HTTPServer) -> Iterator[WebhookServer]:
    """A loopback WeCom group-bot webhook knowing the bot key `lab-key`."""
    _wecom_httpserver.clear()
    yield WebhookServer(_wecom_httpserver)
    _wecom_httpserver.clear()


@pytest.fixture(scope="session")
def smtp_certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for localhost and 127.0.0.1, made for this test session."""
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def unsubscribe_secret() -> SecretStr:
    """The secret unsubscribe tokens are signed with in tests."""
    return SecretStr("unsubscribe-secret-for-tests-0123456789abcdef")


@pytest.fixture
def unsubscribe_endpoint(engine: Engine, unsubscribe_secret: SecretStr) -> Iterator[str]:
    """The unsubscribe endpoint, served as `paperradar serve` does, over the test database."""
    settings = EmailSettings(
        host="127.0.0.1",
        sender="radar@example.org",
        unsubscribe_base_url="http://127.0.0.1/unsubscribe",
        unsubscribe_secret=unsubscribe_secret,
        unsubscribe_port=0,
    )
    server = start_unsubscribe_server(engine, settings)
    yield f"http://127.0.0.1:{server.server_port}/unsubscribe"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def web_archive_of(
    tmp_path_factory: pytest.TempPathFactory,
    embedder: Embedder,
    arxiv_fixtures: Path,
    bilingual_day: list[dict[str, Any]],
) -> Iterator[Callable[[str], WebArchive]]:
    """Build (once per backend and session) a web archive of two real days; see support.web_site."""
    built: dict[str, WebArchive] = {}
    with ExitStack() as cleanup:

        def build(backend: str) -> WebArchive:
            if backend in built:
                return built[backend]
            folder = tmp_path_factory.mktemp(f"web-{backend}")
            if backend == "sqlite":
                url = f"sqlite:///{folder / 'paperradar.sqlite3'}"
            else:
                url = cleanup.enter_context(postgres_database())
            feed = folder / "two-days.jsonl"
            corpus = arxiv_fixtures / "corpus" / "corpus_cs_cl_lg_ai_2025-09_2025-10.jsonl"
            write_feed(corpus, bilingual_day, feed)
            settings = Settings(
                data_dir=folder / "var",
                database_url=url,
                prompts_dir=REPO_ROOT / "prompts",
                profiles_dir=REPO_ROOT / "profiles",
                migrations_dir=REPO_ROOT / "db",
                arxiv=ArxivSettings(feed_file=feed),
                web=WebSettings(base_url="https://radar.example.org/archive/"),
            )
            engine = create_db_engine(url)
            cleanup.callback(engine.dispose)
            migrate(engine, settings.migrations_dir)
            profiles = load_profiles(settings.profiles_dir)
            ctx = App(
                settings=settings, engine=engine, profiles=profiles, embedder=embedder, llm=None
            )
            built[backend] = build_archive(ctx, bilingual_day)
            return built[backend]

        yield build


@pytest.fixture(params=["sqlite", "postgresql"])
def web_archive(
    request: pytest.FixtureRequest, web_archive_of: Callable[[str], WebArchive]
) -> WebArchive:
    """The built web archive, on each database backend."""
    return web_archive_of(request.param)


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Headless Chromium (Debian's `chromium`) via Playwright; skipped without it, but not in CI."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    problem = None if executable else "Chromium not installed (apt-get install chromium)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        problem = "Playwright not installed (pip install -e '.[dev]')"
    if problem or executable is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{problem}: the browser tests must run in CI")
        pytest.skip(problem)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def test_artifacts() -> Path:
    """The folder for screenshots and other files a test run leaves to look at (gitignored)."""
    folder = REPO_ROOT / "test-artifacts"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture
def bot_api() -> Iterator[BotApiServer]:
    """A loopback Telegram Bot API server (getMe, getUpdates, sendMessage, callbacks, edits)."""
    with bot_api_server() as server:
        yield server
