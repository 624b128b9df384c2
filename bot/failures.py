"""What the bot does when a handler fails: a plain sentence to the reader, detail to the log."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import ContextTypes

from bot import views
from bot.handlers import language_code, words_for
from paperradar.errors import PaperRadarError
from paperradar.i18n import Words, words
from paperradar.readers import subscriptions
from paperradar.readers.refusal import Refusal

logger = logging.getLogger(__name__)

# PTB's rate limiter logs a 429 it gives up on at ERROR with a traceback; see QuietRateLimits.
RATE_LIMITER_LOGGER = "telegram.ext.AIORateLimiter"


def is_transient(error: BaseException | None) -> bool:
    """A rate limit, a network blip or a chat that blocked the bot: Telegram's weather, no bug.

    BadRequest is a NetworkError in PTB, but it means we sent something wrong: a bug.
    """
    if isinstance(error, NetworkError):
        return not isinstance(error, BadRequest)
    return isinstance(error, RetryAfter | Forbidden)


class QuietRateLimits(logging.Filter):
    """Make PTB's rate limiter giving up on a 429 one INFO line, without a traceback.

    Its caller reports the error too (the bot's error handler, the Telegram channel), so the
    limiter's own record is a detail, not a second alarm.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite a record that carries a transient error; keep every record."""
        error = record.exc_info[1] if record.exc_info else None
        if is_transient(error):
            record.msg, record.args = "%s: %s", (record.getMessage(), error)
            record.levelno, record.levelname = logging.INFO, logging.getLevelName(logging.INFO)
            record.exc_info, record.exc_text = None, None
        return True


async def _error_words(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Words:
    """The chat's words, or its user's when the database cannot say (it may be the error)."""
    try:
        return await words_for(update, context)
    except PaperRadarError as error:
        logger.warning("answering in the user's language: %s", error)
        return words(subscriptions.chat_language(None, language_code(update), ()))


async def error_handler(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Tell the user what to fix (a refusal) or that something broke (logged for the operator).

    A rate limit, a network blip or a chat that blocked the bot is one WARNING line and no
    reply: the reply would meet the same limit, the same broken network or the same block.
    """
    error = context.error
    if is_transient(error):
        logger.warning("Telegram did not take a reply: %s: %s", type(error).__name__, error)
        return
    if isinstance(error, Refusal):
        logger.info("command refused: %s", error)
    elif isinstance(error, PaperRadarError):
        logger.warning("command failed: %s", error)
    else:
        logger.error("handler failed", exc_info=error)
    if isinstance(update, Update) and update.effective_message is not None:
        t = await _error_words(update, context)
        try:
            await update.effective_message.reply_html(views.refusal_text(t, error or Exception()))
        except TelegramError as reply_error:
            logger.warning("could not tell the chat about the error: %s", reply_error)
