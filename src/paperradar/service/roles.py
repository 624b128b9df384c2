"""`paperradar serve`: the scheduler, the bot and the web archive, together or one role each."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from wsgiref.simple_server import WSGIServer

from paperradar.app import App, build_app
from paperradar.errors import ConfigError
from paperradar.readers.unsubscribe import start_unsubscribe_server
from paperradar.service import scheduler as service
from paperradar.settings import Settings
from paperradar.web.server import stop_server
from paperradar.web.stage import serve_archive

logger = logging.getLogger(__name__)


def _stop_on_signals(stop: threading.Event) -> None:
    """Turn SIGTERM (docker stop) and SIGINT into a clean stop."""

    def handle(signum: int, _frame: FrameType | None) -> None:
        logger.info("serve: %s received; stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


# The bot's loop: runs until the event is set. `cli` hands it in, since `bot` imports
# `paperradar` and never the reverse.
BotLoop = Callable[[App, threading.Event], None]


def _start_bot(
    app: App, stop: threading.Event, role: str, bot_loop: BotLoop
) -> threading.Thread | None:
    """Answer Telegram updates from a thread; without a token only `--role bot` insists."""
    if not app.settings.telegram.enabled:
        if role == "bot":
            raise ConfigError("the bot needs a token: set PAPERRADAR_TELEGRAM__BOT_TOKEN")
        logger.info("serve: no Telegram token, so no bot")
        return None
    thread = threading.Thread(target=bot_loop, args=(app, stop), name="bot", daemon=True)
    thread.start()
    return thread


def _start_unsubscribe(app: App) -> WSGIServer | None:
    """Answer the newsletter's unsubscribe links: every email carries one when email is on."""
    if not app.settings.email.enabled:
        return None
    return start_unsubscribe_server(app.engine, app.settings.email)


def serve_roles(settings: Settings, role: str, bot_loop: BotLoop) -> None:
    """Run the chosen role (all, scheduler, bot or web) until SIGTERM or Ctrl-C."""
    app = build_app(settings)
    stop = threading.Event()
    _stop_on_signals(stop)
    svc = service.Service(app)
    scheduler = service.start(svc) if role in ("all", "scheduler") else None
    archive = serve_archive(app.archive()) if role in ("all", "web") else None
    unsubscribe = _start_unsubscribe(app) if role in ("all", "web") else None
    bot = _start_bot(app, stop, role, bot_loop) if role in ("all", "bot") else None
    try:
        stop.wait()
    finally:
        stop.set()
        if bot is not None:
            bot.join(30)
        if archive is not None:
            stop_server(archive)
        if unsubscribe is not None:
            unsubscribe.shutdown()
            unsubscribe.server_close()
        if scheduler is not None:
            service.stop(svc, scheduler)
