"""The bot's handlers, PTB-examples style: parse the update, call `bot.actions`, reply."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from telegram import Message, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import ContextTypes

from bot import actions, views
from paperradar.app import App
from paperradar.deliver.channels.telegram import reply_markup
from paperradar.errors import PaperRadarError
from paperradar.text import clean_text

logger = logging.getLogger(__name__)

CORE = "paperradar"
# PTB's rate limiter logs a 429 it gives up on at ERROR with a traceback; see QuietRateLimits.
RATE_LIMITER_LOGGER = "telegram.ext.AIORateLimiter"
P = ParamSpec("P")
R = TypeVar("R")


def core(context: ContextTypes.DEFAULT_TYPE) -> App:
    """The PaperRadar context `main()` put in bot_data."""
    value = context.bot_data[CORE]
    if not isinstance(value, App):
        raise TypeError(f"bot_data[{CORE!r}] is not a paperradar App")
    return value


async def call(function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run a blocking `bot.actions` call (database, model, LLM) off the event loop."""
    return await asyncio.to_thread(function, *args, **kwargs)


def _chat(update: Update) -> str:
    if update.effective_chat is None:
        raise actions.UsageError("this update has no chat")
    return str(update.effective_chat.id)


def _user(update: Update) -> str:
    return str(update.effective_user.id) if update.effective_user else "unknown"


def _rest(update: Update, words: int) -> str:
    """The message text after its first `words` words, without control or bidi characters.

    Newlines and full-width colons stay.
    """
    text = update.effective_message.text if update.effective_message else None
    parts = clean_text(text or "").split(maxsplit=words)
    return parts[words].strip() if len(parts) > words else ""


async def _reply(update: Update, text: str) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_html(views.fit(text), disable_web_page_preview=True)


def _for_another_bot(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Whether a command names another bot (`/help@other_bot`): that one is not ours to answer."""
    text = update.effective_message.text if update.effective_message else None
    words = (text or "").split(maxsplit=1)
    _, at, name = (words[0] if words else "").partition("@")
    return bool(at) and name.lower() != (context.bot.username or "").lower()


def _is_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    user = update.effective_user
    return user is not None and user.id in core(context).settings.telegram.admin_user_ids


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Register the chat for the shared digest and greet in the user's language."""
    state, is_new = await call(actions.register, core(context), _chat(update))
    language = (update.effective_user.language_code if update.effective_user else None) or "en"
    await _reply(update, views.greeting(state, language=language, is_new=is_new))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the commands (and the admin ones, to admins)."""
    admin = f"\n\n{views.ADMIN_HELP}" if _is_admin(update, context) else ""
    await _reply(update, views.HELP + admin)


async def topic(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Handle /topic list | add <name>: <description> | remove <key> | show <key>."""
    app, chat = core(context), _chat(update)
    verb = context.args[0].lower() if context.args else "list"
    if verb == "list":
        await _reply(update, views.topic_list(await call(actions.chat_state, app, chat)))
    elif verb == "add" and _rest(update, 2):
        row = await call(actions.add_own_topic, app, chat, _rest(update, 2), _user(update))
        await _reply(update, views.topic_added(row))
    elif verb == "remove" and context.args and len(context.args) == 2:
        removed = await call(actions.remove_topic, app, chat, context.args[1])
        await _reply(update, "Removed." if removed else "No such topic of yours: /topic list")
    elif verb == "show" and context.args and len(context.args) == 2:
        details = await call(actions.topic_details, app, chat, context.args[1])
        await _reply(update, views.topic_details(details))
    else:
        raise actions.UsageError(
            "usage: /topic list | add <name>: <description> | remove <key> | show <key>"
        )


async def subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Subscribe the chat to shared topics."""
    if not context.args:
        raise actions.UsageError("usage: /subscribe <key> … (/topic list shows the keys)")
    state = await call(actions.change_topics, core(context), _chat(update), context.args, add=True)
    await _reply(update, views.topic_list(state))


async def unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Unsubscribe the chat from shared topics."""
    if not context.args:
        raise actions.UsageError("usage: /unsubscribe <key> … (/topic list shows the keys)")
    state = await call(actions.change_topics, core(context), _chat(update), context.args, add=False)
    await _reply(update, views.topic_list(state))


async def today(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the chat's latest digest now."""
    messages = await call(actions.today, core(context), _chat(update))
    if not messages:
        await _reply(update, "No digest yet: it comes after arXiv's next announcement is scored.")
    for message in messages:
        if update.effective_message is not None:
            await update.effective_message.reply_html(
                message.text,
                reply_markup=reply_markup(message.buttons),
                disable_web_page_preview=True,
            )


async def search(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Search the stored papers and past picks by meaning."""
    query = _rest(update, 1)
    if not query:
        raise actions.UsageError("usage: /search <what you are looking for>")
    hits = await call(actions.search, core(context), _chat(update), query)
    await _reply(update, views.search_results(query, hits))


async def settings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show or change the chat's language, minimum percent, cap, delivery time and zone."""
    app, chat = core(context), _chat(update)
    if not context.args:
        state = await call(actions.chat_state, app, chat)
        await _reply(update, views.settings_text(state.subscription))
        return
    if len(context.args) != 2:
        raise actions.UsageError(f"usage: {actions.SETTINGS_USAGE}")
    field, value = context.args[0].lower(), context.args[1]
    subscription = await call(actions.update_settings, app, chat, field, value)
    await _reply(update, views.settings_text(subscription))


async def stop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop sending digests to this chat (a chat that is not active is told to /start)."""
    await call(actions.stop, core(context), _chat(update))
    await _reply(update, "Stopped: no more digests here. /start brings them back.")


async def shared(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Admins: add or remove a topic of the shared profile."""
    if not _is_admin(update, context):
        await _reply(update, "Only admins can change the shared topics.")
        return
    app = core(context)
    verb = context.args[0].lower() if context.args else ""
    if verb == "add" and _rest(update, 2):
        row = await call(actions.add_shared_topic, app, _rest(update, 2), _user(update))
        await _reply(update, views.topic_added(row))
    elif verb == "remove" and context.args and len(context.args) == 2:
        removed = await call(actions.remove_topic, app, None, context.args[1])
        await _reply(update, "Removed." if removed else "Only topics added here can be removed.")
    else:
        raise actions.UsageError("usage: /shared add <name>: <description> | remove <key>")


async def broadcast(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Admins: send a text to every subscribed chat."""
    if not _is_admin(update, context):
        await _reply(update, "Only admins can broadcast.")
        return
    text = _rest(update, 1)
    if not text:
        raise actions.UsageError("usage: /broadcast <text>")
    sent = 0
    for chat in await call(actions.broadcast_targets, core(context)):
        try:
            await context.bot.send_message(chat_id=int(chat), text=text)
            sent += 1
        except Forbidden:
            logger.info("broadcast: chat %s blocked the bot", chat)
    await _reply(update, f"Sent to {sent} chat(s).")


async def feedback_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Record a 👍/👎 under a paper and tick the pressed button."""
    query = update.callback_query
    if query is None or query.message is None:
        return
    if not query.data:  # PTB checks the pattern only against non-empty data
        await query.answer(views.STALE_BUTTON)
        return
    try:
        value = await call(
            actions.vote,
            core(context),
            str(query.message.chat.id),
            str(query.from_user.id),
            query.data,
        )
    except PaperRadarError as error:
        await query.answer(views.answer_text(str(error)), show_alert=False)
        return
    # Telegram shows a spinner on the button until the query is answered.
    await query.answer("Thanks: noted 👍" if value > 0 else "Thanks: noted 👎")
    # A message older than 48 hours comes back "inaccessible", without its keyboard.
    markup = query.message.reply_markup if isinstance(query.message, Message) else None
    if markup is not None:
        await query.edit_message_reply_markup(views.mark_vote(markup, query.data, value))


async def stale_button(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a button press no other handler took, so its spinner stops."""
    if update.callback_query is not None:
        await update.callback_query.answer(views.STALE_BUTTON)


async def unknown(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer an unknown command with a short help line (unless it names another bot)."""
    if not _for_another_bot(update, context):
        await _reply(update, views.SHORT_HELP)


async def plain_text(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer text that is no command with a hint (`main` wires it for private chats only)."""
    await _reply(update, views.PLAIN_TEXT_HINT)


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


async def error_handler(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Tell the user what to fix (our errors) or that something broke (bugs, logged in full).

    A rate limit, a network blip or a chat that blocked the bot is one WARNING line and no
    reply: the reply would meet the same limit, the same broken network or the same block.
    """
    error = context.error
    if is_transient(error):
        logger.warning("Telegram did not take a reply: %s: %s", type(error).__name__, error)
        return
    if isinstance(error, PaperRadarError):
        logger.info("command refused: %s", error)
        text = views.error_text(str(error))
    else:
        logger.error("handler failed", exc_info=error)
        text = views.ERROR_REPLY
    if isinstance(update, Update) and update.effective_message is not None:
        try:
            await update.effective_message.reply_html(text)
        except TelegramError as reply_error:
            logger.warning("could not tell the chat about the error: %s", reply_error)
