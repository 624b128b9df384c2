"""The bot on a loopback Bot API, over a seeded digest: the context, and the bot running on it."""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine
from support.bot_api import BotApiServer, running_bot
from support.outbox import seed_digest, telegram_context, telegram_settings
from support.views import TOPICS

from paperradar.app import App
from paperradar.embed.embeddings import Embedder
from paperradar.profiles.profile import Profile
from paperradar.settings import Settings

PROFILE = Profile(name="default", topics=dict(TOPICS))
ADMIN = 9000


@pytest.fixture
def bot_context(
    settings: Settings,
    engine: Engine,
    embedder: Embedder,
    bot_api: BotApiServer,
    bilingual_day: list[dict[str, Any]],
) -> App:
    seed_digest(engine, PROFILE, bilingual_day[:6], hostile=True)
    return telegram_context(
        telegram_settings(settings, bot_api, admin_user_ids=[ADMIN]), engine, embedder, [PROFILE]
    )


@pytest.fixture
def running(bot_context: App) -> Iterator[App]:
    with running_bot(bot_context):
        yield bot_context
