"""The composition root: `build_context(settings)` is the only place clients are constructed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import Engine

from paperradar.deliver.channels import Channel, build_channels
from paperradar.embed.embeddings import Embedder
from paperradar.llm.client import LLMClient
from paperradar.profiles.custom import current_profiles
from paperradar.profiles.profile import Profile, load_profiles
from paperradar.settings import Settings
from paperradar.store.db import create_db_engine, migrate, session_scope
from paperradar.store.records import utc_now


@dataclass(frozen=True)
class Context:
    """Everything a stage needs: settings, the database, profiles and the clients."""

    settings: Settings
    engine: Engine
    profiles: tuple[Profile, ...]
    embedder: Embedder
    llm: LLMClient | None
    channels: Mapping[str, Channel] = field(default_factory=dict)
    # The profiles read from files, kept when `profiles` gains the topics added at run time.
    file_profiles: tuple[Profile, ...] | None = None
    # What "now" is to runs and deliveries; the service's simulated week injects its own.
    clock: Callable[[], datetime] = utc_now


def build_context(settings: Settings) -> Context:
    """Construct every client from settings and bring the database schema up to date."""
    profiles = load_profiles(settings.profiles_dir)
    channels = build_channels(settings)
    engine = create_db_engine(settings.resolved_database_url)
    migrate(engine, settings.migrations_dir)
    return Context(
        settings=settings,
        engine=engine,
        profiles=profiles,
        embedder=Embedder(settings.embedding, models_dir=settings.data_dir / "models"),
        llm=LLMClient(settings.llm) if settings.llm.enabled else None,
        channels=channels,
    )


def with_current_profiles(ctx: Context) -> Context:
    """Return the context with the topics added at run time: admins' shared ones, chats' own."""
    base = ctx.file_profiles if ctx.file_profiles is not None else ctx.profiles
    with session_scope(ctx.engine) as session:
        return replace(ctx, profiles=current_profiles(session, base), file_profiles=base)
