"""Run the bot: `python -m bot` (or `paperradar-bot`) answers chats by long polling."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from datetime import timedelta

import click
from telegram import Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import failures, handlers, people, topic_actions
from paperradar.app import App, build_app
from paperradar.errors import ConfigError, PaperRadarError
from paperradar.readers.feedback import CALLBACK_PATTERN
from paperradar.service.console import configure_logging
from paperradar.settings import load_settings

logger = logging.getLogger(__name__)
QUIET_RATE_LIMITS = failures.QuietRateLimits()
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
    **people.COMMANDS,
}


def build_application(app: App) -> Application:  # type: ignore[type-arg]
    """Wire the handlers to an Application on the configured Bot API server."""
    settings = app.settings.telegram
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
    application.bot_data[handlers.CORE] = app
    for name, callback in COMMANDS.items():
        application.add_handler(CommandHandler(name, callback))
    application.add_handler(
        CallbackQueryHandler(handlers.feedback_button, pattern=CALLBACK_PATTERN)
    )
    # Registered after the handlers above: whatever they did not take.
    application.add_handler(CallbackQueryHandler(handlers.stale_button))
    application.add_handler(MessageHandler(filters.COMMAND, handlers.unknown))
    # Only in private chats: in a group the bot would answer every message.
    private_text = filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE
    application.add_handler(
        MessageHandler(private_text & filters.UpdateType.MESSAGE, handlers.plain_text)
    )
    application.add_error_handler(failures.error_handler)
    # Adding the same filter again is a no-op, so building twice logs once.
    logging.getLogger(failures.RATE_LIMITER_LOGGER).addFilter(QUIET_RATE_LIMITS)
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


def translate_waiting(app: App) -> None:
    """Translate the topics kept in their own words, now that an LLM may be configured."""
    try:
        topic_actions.translate_waiting(app)
    except PaperRadarError as error:
        logger.warning("topics waiting for a translation stay as they are: %s", error)


def serve_until(app: App, stop: threading.Event, *, poll_timeout: float = 10.0) -> None:
    """Answer updates in this thread until `stop` is set (`paperradar serve` runs it in a thread).

    Args:
        poll_timeout: seconds each getUpdates long poll waits; stopping waits for the one open.
    """
    application = build_application(app)
    translate_waiting(app)
    asyncio.run(_poll_until(application, stop, poll_timeout))


@click.command()
@click.option("-v", "--verbose", is_flag=True, help="Log every detail, with times and names.")
def main(verbose: bool) -> None:
    """Answer Telegram chats by long polling until interrupted (PAPERRADAR_TELEGRAM__BOT_TOKEN).

    `paperradar serve` runs this bot together with the scheduler and the web archive; run
    `paperradar-bot` alone when the bot gets a process of its own.
    """
    configure_logging(verbose=verbose)
    try:
        settings = load_settings()
        if not settings.telegram.enabled:
            raise ConfigError(NO_TOKEN)
        app = build_app(settings)
        application = build_application(app)
    except PaperRadarError as error:
        sys.exit(f"paperradar-bot: {error}")
    translate_waiting(app)
    application.run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
