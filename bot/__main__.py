"""Run the bot: `python -m bot` (or `paperradar-bot`) answers chats by long polling."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from datetime import timedelta

from telegram import Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import handlers
from paperradar.app import Context, build_context
from paperradar.errors import ConfigError, PaperRadarError
from paperradar.readers.feedback import CALLBACK_PATTERN
from paperradar.settings import load_settings

NO_TOKEN = "the bot needs a token: set PAPERRADAR_TELEGRAM__BOT_TOKEN (from @BotFather)"
COMMANDS = {
    "start": handlers.start,
    "help": handlers.help_command,
    "topic": handlers.topic,
    "topics": handlers.topic,
    "subscribe": handlers.subscribe,
    "unsubscribe": handlers.unsubscribe,
    "today": handlers.today,
    "search": handlers.search,
    "settings": handlers.settings,
    "stop": handlers.stop,
    "shared": handlers.shared,
    "broadcast": handlers.broadcast,
}


def build_application(ctx: Context) -> Application:  # type: ignore[type-arg]
    """Wire the handlers to an Application on the configured Bot API server."""
    settings = ctx.settings.telegram
    if settings.bot_token is None or not settings.enabled:
        raise ConfigError(NO_TOKEN)
    application = (
        Application.builder()
        .token(settings.bot_token.get_secret_value())
        .base_url(settings.base_url)
        .base_file_url(settings.base_file_url)
        .rate_limiter(AIORateLimiter(max_retries=settings.max_retries))
        .build()
    )
    application.bot_data[handlers.CORE] = ctx
    for name, callback in COMMANDS.items():
        application.add_handler(CommandHandler(name, callback))
    application.add_handler(
        CallbackQueryHandler(handlers.feedback_button, pattern=CALLBACK_PATTERN)
    )
    # Registered last: any command no handler above took.
    application.add_handler(MessageHandler(filters.COMMAND, handlers.unknown))
    application.add_error_handler(handlers.error_handler)
    return application


async def _poll_until(application: Application, stop: threading.Event, timeout: float) -> None:  # type: ignore[type-arg]
    updater = application.updater
    if updater is None:
        raise ConfigError("the bot's Application was built without an Updater")
    async with application:
        await application.start()
        poll = timedelta(seconds=timeout)
        await updater.start_polling(timeout=poll, allowed_updates=Update.ALL_TYPES)
        await asyncio.to_thread(stop.wait)
        await updater.stop()
        await application.stop()


def serve_until(ctx: Context, stop: threading.Event, *, poll_timeout: float = 10.0) -> None:
    """Answer updates in this thread until `stop` is set (`paperradar serve` runs it in a thread).

    Args:
        poll_timeout: seconds each getUpdates long poll waits; stopping waits for the one open.
    """
    asyncio.run(_poll_until(build_application(ctx), stop, poll_timeout))


def main() -> None:
    """Load the settings, build the context and answer updates until interrupted."""
    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO
    )
    # httpx logs every getUpdates poll at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        settings = load_settings()
        if not settings.telegram.enabled:
            raise ConfigError(NO_TOKEN)
        application = build_application(build_context(settings))
    except PaperRadarError as error:
        sys.exit(f"paperradar-bot: {error}")
    application.run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
