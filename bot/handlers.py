"""The bot's handlers, PTB-examples style: parse the update, call `bot.actions`, reply."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from telegram import Message, Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot import actions, views
from paperradar.app import Context
from paperradar.deliver.channels.telegram import reply_markup
from paperradar.errors import PaperRadarError

logger = logging.getLogger(__name__)

CORE = "paperradar"
P = ParamSpec("P")
R = TypeVar("R")


def core(context: ContextTypes.DEFAULT_TYPE) -> Context:
    """The PaperRadar context `main()` put in bot_data."""
    value = context.bot_data[CORE]
    if not isinstance(value, Context):
        raise TypeError(f"bot_data[{CORE!r}] is not a paperradar Context")
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
    """The message text after its first `words` words (keeps newlines and full-width colons)."""
    text = update.effective_message.text if update.effective_message else None
    parts = (text or "").split(maxsplit=words)
    return parts[words].strip() if len(parts) > words else ""


async def _reply(update: Update, text: str) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_html(text, disable_web_page_preview=True)


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
    ctx, chat = core(context), _chat(update)
    verb = context.args[0].lower() if context.args else "list"
    if verb == "list":
        await _reply(update, views.topic_list(await call(actions.chat_state, ctx, chat)))
    elif verb == "add" and _rest(update, 2):
        row = await call(actions.add_own_topic, ctx, chat, _rest(update, 2), _user(update))
        await _reply(update, views.topic_added(row))
    elif verb == "remove" and context.args and len(context.args) == 2:
        removed = await call(actions.remove_topic, ctx, chat, context.args[1])
        await _reply(update, "Removed." if removed else "No such topic of yours: /topic list")
    elif verb == "show" and context.args and len(context.args) == 2:
        details = await call(actions.topic_details, ctx, chat, context.args[1])
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
    ctx, chat = core(context), _chat(update)
    if not context.args:
        state = await call(actions.chat_state, ctx, chat)
        await _reply(update, views.settings_text(state.subscription))
        return
    if len(context.args) != 2:
        raise actions.UsageError(f"usage: {actions.SETTINGS_USAGE}")
    field, value = context.args[0].lower(), context.args[1]
    subscription = await call(actions.update_settings, ctx, chat, field, value)
    await _reply(update, views.settings_text(subscription))


async def stop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop sending digests to this chat."""
    await call(actions.stop, core(context), _chat(update))
    await _reply(update, "Stopped: no more digests here. /start brings them back.")


async def shared(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Admins: add or remove a topic of the shared profile."""
    if not _is_admin(update, context):
        await _reply(update, "Only admins can change the shared topics.")
        return
    ctx = core(context)
    verb = context.args[0].lower() if context.args else ""
    if verb == "add" and _rest(update, 2):
        row = await call(actions.add_shared_topic, ctx, _rest(update, 2), _user(update))
        await _reply(update, views.topic_added(row))
    elif verb == "remove" and context.args and len(context.args) == 2:
        removed = await call(actions.remove_topic, ctx, None, context.args[1])
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
    if query is None or query.data is None or query.message is None:
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
        await query.answer(str(error), show_alert=False)
        return
    # Telegram shows a spinner on the button until the query is answered.
    await query.answer("Thanks: noted 👍" if value > 0 else "Thanks: noted 👎")
    # A message older than 48 hours comes back "inaccessible", without its keyboard.
    markup = query.message.reply_markup if isinstance(query.message, Message) else None
    if markup is not None:
        await query.edit_message_reply_markup(views.mark_vote(markup, query.data, value))


async def unknown(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer an unknown command with a short help line."""
    await _reply(update, views.SHORT_HELP)


async def error_handler(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Tell the user what to fix (our errors) or that something broke (bugs, logged in full)."""
    error = context.error
    if isinstance(error, PaperRadarError):
        logger.info("command refused: %s", error)
        text = views.escape(str(error))
    else:
        logger.error("handler failed", exc_info=error)
        text = views.ERROR_REPLY
    if isinstance(update, Update) and update.effective_message is not None:
        try:
            await update.effective_message.reply_html(text)
        except TelegramError as reply_error:
            logger.warning("could not tell the chat about the error: %s", reply_error)
