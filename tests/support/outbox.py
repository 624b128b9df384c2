"""Seed composed digests from real papers, and build a App whose Telegram is the loopback."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from pydantic import SecretStr
from sqlalchemy import Engine
from support.bot_api import BotApiServer
from support.views import DAY, hostile_paper, paper_from_row, summary_for

from paperradar.app import App
from paperradar.compose.digests import compose_digest
from paperradar.deliver.channels.telegram import TelegramChannel
from paperradar.embed.embeddings import Embedder, embed_missing
from paperradar.llm.client import LLMClient
from paperradar.profiles.profile import Profile
from paperradar.settings import ScheduleSettings, Settings, TelegramSettings
from paperradar.store.db import session_scope
from paperradar.store.records import FeedDay, Match, Paper
from paperradar.store.states import DayStatus


def seed_digest(
    engine: Engine,
    profile: Profile,
    rows: Sequence[dict[str, Any]],
    *,
    day: date = DAY,
    hostile: bool = False,
    embedder: Embedder | None = None,
) -> None:
    """Store a day's papers, summaries and matches (topics in turn) and compose the digest."""
    keys = list(profile.topics)
    papers: list[Paper] = [hostile_paper()] if hostile else []
    papers += [paper_from_row(row) for row in rows]
    by_id = {row["id"]: row for row in rows}
    with session_scope(engine) as session:
        if session.get(FeedDay, day) is None:
            session.add(FeedDay(day=day, status=DayStatus.ANNOUNCED, source="test", new_count=311))
        for paper in papers:
            if session.get(Paper, paper.arxiv_id) is None:
                paper.first_announced_on = day
                session.add(paper)
                session.flush()
                topic = keys[papers.index(paper) % len(keys)]
                session.add(summary_for(paper, by_id.get(paper.arxiv_id), topic))
        for index, paper in enumerate(papers):
            topic = keys[index % len(keys)]
            session.add(
                Match(
                    paper_id=paper.arxiv_id,
                    profile=profile.name,
                    topic=topic,
                    day=day,
                    score=0.9 - index / 100,
                    percent=90 - index,
                    reason=f"keywords: {profile.topics[topic].title.lower()}",
                )
            )
        session.flush()
        if embedder is not None:
            embed_missing(session, embedder, papers)
        compose_digest(session, profile=profile, day=day)


def telegram_settings(settings: Settings, server: BotApiServer, **options: Any) -> Settings:
    """The settings with Telegram pointed at the loopback server (and no 429 retries)."""
    telegram = TelegramSettings(
        bot_token=SecretStr(server.token),
        base_url=server.base_url,
        max_retries=options.pop("max_retries", 0),
        **options,
    )
    return settings.model_copy(update={"telegram": telegram})


def telegram_context(
    settings: Settings,
    engine: Engine,
    embedder: Embedder,
    profiles: Sequence[Profile],
    *,
    llm: LLMClient | None = None,
    schedule: ScheduleSettings | None = None,
) -> App:
    """A App with the given profiles whose only channel is Telegram on the loopback."""
    if schedule is not None:
        settings = settings.model_copy(update={"schedule": schedule})
    channel = TelegramChannel(settings.telegram)
    return App(
        settings=settings,
        engine=engine,
        profiles=tuple(profiles),
        embedder=embedder,
        llm=llm,
        channels={"telegram": channel},
    )
