"""The composition root: `build_app(settings)` is the only place clients are constructed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import Engine

from paperradar.deliver.channels import Channel, build_channels
from paperradar.deliver.outbox import Outbox
from paperradar.embed.embeddings import Embedder
from paperradar.llm.client import LLMClient
from paperradar.profiles.profile import Profile, load_profiles
from paperradar.rank.rerank import Reranker
from paperradar.readers.topics import current_profiles
from paperradar.settings import Settings
from paperradar.store.db import create_db_engine, migrate, session_scope
from paperradar.store.records import utc_now
from paperradar.web.stage import ArchiveSource


@dataclass(frozen=True)
class App:
    """Settings, the database, the profiles and every client; stages take the parts they use."""

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

    def outbox(self) -> Outbox:
        """What the deliver stage works with."""
        return Outbox(self.engine, self.channels, self.profiles, self.settings.schedule, self.clock)

    def archive(self) -> ArchiveSource:
        """What the web archive is built from."""
        return ArchiveSource(self.engine, self.profiles, self.settings, self.llm is not None)

    def reranker(self) -> Reranker:
        """The LLM re-rank the settings ask for (a no-op when off)."""
        return Reranker.of(self.settings.rerank, self.llm, self.settings.prompts_dir)


def build_app(settings: Settings) -> App:
    """Construct every client from settings and bring the database schema up to date."""
    profiles = load_profiles(settings.profiles_dir)
    channels = build_channels(settings)
    engine = create_db_engine(settings.resolved_database_url)
    migrate(engine, settings.migrations_dir)
    return App(
        settings=settings,
        engine=engine,
        profiles=profiles,
        embedder=Embedder(settings.embedding, models_dir=settings.data_dir / "models"),
        llm=LLMClient(settings.llm) if settings.llm.enabled else None,
        channels=channels,
    )


def with_current_profiles(app: App) -> App:
    """Return the app with the topics added at run time: admins' shared ones, chats' own."""
    base = app.file_profiles if app.file_profiles is not None else app.profiles
    with session_scope(app.engine) as session:
        return replace(app, profiles=current_profiles(session, base), file_profiles=base)
