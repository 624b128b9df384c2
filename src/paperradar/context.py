"""The composition root: `build_context(settings)` is the only place clients are constructed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from paperradar.embeddings import Embedder
from paperradar.llm import LLMClient
from paperradar.profiles import Profile, load_profiles
from paperradar.settings import Settings
from paperradar.store import create_db_engine, migrate


@dataclass(frozen=True)
class Context:
    """Everything a stage needs: settings, the database, profiles and the clients."""

    settings: Settings
    engine: Engine
    profiles: tuple[Profile, ...]
    embedder: Embedder
    llm: LLMClient | None


def build_context(settings: Settings) -> Context:
    """Construct every client from settings and bring the database schema up to date."""
    profiles = load_profiles(settings.profiles_dir)
    engine = create_db_engine(settings.resolved_database_url)
    migrate(engine, settings.migrations_dir)
    return Context(
        settings=settings,
        engine=engine,
        profiles=profiles,
        embedder=Embedder(settings.embedding),
        llm=LLMClient(settings.llm) if settings.llm.enabled else None,
    )
