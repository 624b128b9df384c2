"""`paperradar serve`: the scheduler, the bot and the web archive, together or one role each."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from paperradar.app import Context, build_context
from paperradar.errors import ConfigError
from paperradar.service import scheduler as service
from paperradar.settings import Settings
from paperradar.web.server import stop_server
from paperradar.web.stage import serve_archive

logger = logging.getLogger(__name__)

ROLES = ("all", "scheduler", "bot", "web")


def _stop_on_signals(stop: threading.Event) -> None:
    """Turn SIGTERM (docker stop) and SIGINT into a clean stop."""

    def handle(signum: int, _frame: FrameType | None) -> None:
        logger.info("serve: %s received; stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


def _start_bot(ctx: Context, stop: threading.Event, role: str) -> threading.Thread | None:
    """Answer Telegram updates from a thread; without a token only `--role bot` insists."""
    if not ctx.settings.telegram.enabled:
        if role == "bot":
            raise ConfigError("the bot needs a token: set PAPERRADAR_TELEGRAM__BOT_TOKEN")
        logger.info("serve: no Telegram token, so no bot")
        return None
    # The entry point wires the inbound bot in; the wheel ships `bot` beside `paperradar`.
    from bot.__main__ import serve_until

    thread = threading.Thread(target=serve_until, args=(ctx, stop), name="bot", daemon=True)
    thread.start()
    return thread


def serve_roles(settings: Settings, role: str) -> None:
    """Run the chosen role(s) until SIGTERM or Ctrl-C."""
    if role not in ROLES:
        raise ConfigError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    ctx = build_context(settings)
    stop = threading.Event()
    _stop_on_signals(stop)
    svc = service.Service(ctx)
    scheduler = service.start(svc) if role in ("all", "scheduler") else None
    archive = serve_archive(ctx) if role in ("all", "web") else None
    bot = _start_bot(ctx, stop, role) if role in ("all", "bot") else None
    try:
        stop.wait()
    finally:
        stop.set()
        if bot is not None:
            bot.join(30)
        if archive is not None:
            stop_server(archive)
        if scheduler is not None:
            service.stop(svc, scheduler)
