"""The bot's handlers, PTB-examples style: parse the update, call `bot.actions`, reply."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from telegram import Message, Update
from telegram.constants import ChatAction
from telegram.error import Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot import actions, topic_actions, views
from paperradar.app import App
from paperradar.deliver.channels.telegram import reply_markup
from paperradar.i18n import Words, words
from paperradar.readers.feedback import FeedbackError
from paperradar.readers.refusal import Refusal
from paperradar.text import clean_text

logger = logging.getLogger(__name__)

CORE = "paperradar"
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


def language_code(update: Update) -> str | None:
    """The user's Telegram language (`zh-hans`, `en`), if the update says."""
    return update.effective_user.language_code if update.effective_user else None


async def words_for(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Words:
    """The words of the chat's language: its choice, else its user's, else the profile's."""
    chat = str(update.effective_chat.id) if update.effective_chat else None
    return words(await call(actions.chat_language, core(context), chat, language_code(update)))


async def _reply(update: Update, t: Words, text: str) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_html(views.fit(t, text), disable_web_page_preview=True)


async def _typing(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show "typing…" while a slow command (translation, embedding, search) works.

    Only a courtesy: a chat action Telegram refuses must not stop the command.
    """
    if update.effective_chat is None:
        return
    try:
        await context.bot.send_chat_action(update.effective_chat.id, ChatAction.TYPING)
    except TelegramError as error:
        logger.info("no typing indicator: %s", error)


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
    state, is_new = await call(
        actions.register, core(context), _chat(update), language_code(update)
    )
    t = await words_for(update, context)
    await _reply(update, t, views.greeting(t, state, is_new=is_new))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the commands (and the admin ones, to admins)."""
    t = await words_for(update, context)
    await _reply(update, t, views.help_text(t, admin=_is_admin(update, context)))


async def topic(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Handle /topic list | add <name>: <description> | remove <key> | show <key>."""
    app, chat, t = core(context), _chat(update), await words_for(update, context)
    verb = context.args[0].lower() if context.args else "list"
    if verb == "list":
        await _reply(update, t, views.topic_list(t, await call(actions.chat_state, app, chat)))
    elif verb == "add" and _rest(update, 2):
        await _typing(update, context)
        added = await call(topic_actions.add_own_topic, app, chat, _rest(update, 2), _user(update))
        await _reply(update, t, views.topic_added(t, added))
    elif verb == "remove" and context.args and len(context.args) == 2:
        removed = await call(topic_actions.remove_topic, app, chat, context.args[1])
        await _reply(update, t, t("bot.topic.removed" if removed else "bot.topic.no_such_own"))
    elif verb == "show" and context.args and len(context.args) == 2:
        details = await call(topic_actions.topic_details, app, chat, context.args[1])
        await _reply(update, t, views.topic_details(t, details))
    else:
        raise actions.UsageError("bot.refusal.usage_topic")


async def subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Subscribe the chat to shared topics."""
    if not context.args:
        raise actions.UsageError("bot.refusal.usage_subscribe")
    state = await call(actions.change_topics, core(context), _chat(update), context.args, add=True)
    t = await words_for(update, context)
    await _reply(update, t, views.topic_list(t, state))


async def unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Unsubscribe the chat from shared topics."""
    if not context.args:
        raise actions.UsageError("bot.refusal.usage_unsubscribe")
    state = await call(actions.change_topics, core(context), _chat(update), context.args, add=False)
    t = await words_for(update, context)
    await _reply(update, t, views.topic_list(t, state))


async def today(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the chat's latest digest now."""
    messages = await call(actions.today, core(context), _chat(update))
    if not messages:
        t = await words_for(update, context)
        await _reply(update, t, t("bot.today.none"))
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
        raise actions.UsageError("bot.refusal.usage_search")
    await _typing(update, context)
    hits = await call(actions.search, core(context), _chat(update), query)
    t = await words_for(update, context)
    await _reply(update, t, views.search_results(t, query, hits))


async def settings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show or change the chat's language, minimum percent, cap, delivery time and zone."""
    app, chat = core(context), _chat(update)
    if context.args and len(context.args) != 2:
        raise actions.UsageError("bot.refusal.usage_settings")
    if context.args:
        field, value = context.args[0].lower(), context.args[1]
        await call(actions.update_settings, app, chat, field, value)
    state = await call(actions.chat_state, app, chat)
    t = await words_for(update, context)
    await _reply(update, t, views.settings_text(t, state, app.settings.schedule))


async def stop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop sending digests to this chat (a chat that is not active is told to /start)."""
    await call(actions.stop, core(context), _chat(update))
    t = await words_for(update, context)
    await _reply(update, t, t("bot.stop.done"))


async def shared(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Admins: add or remove a topic of the shared profile."""
    t = await words_for(update, context)
    if not _is_admin(update, context):
        await _reply(update, t, t("bot.admin.only_shared"))
        return
    app = core(context)
    verb = context.args[0].lower() if context.args else ""
    if verb == "add" and _rest(update, 2):
        await _typing(update, context)
        added = await call(topic_actions.add_shared_topic, app, _rest(update, 2), _user(update))
        await _reply(update, t, views.topic_added(t, added))
    elif verb == "remove" and context.args and len(context.args) == 2:
        removed = await call(topic_actions.remove_topic, app, None, context.args[1])
        await _reply(update, t, t("bot.topic.removed" if removed else "bot.topic.only_added_here"))
    else:
        raise actions.UsageError("bot.refusal.usage_shared")


async def broadcast(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Admins: send a text to every subscribed chat."""
    t = await words_for(update, context)
    if not _is_admin(update, context):
        await _reply(update, t, t("bot.admin.only_broadcast"))
        return
    text = _rest(update, 1)
    if not text:
        raise actions.UsageError("bot.refusal.usage_broadcast")
    sent = 0
    for chat in await call(actions.broadcast_targets, core(context)):
        try:
            await context.bot.send_message(chat_id=int(chat), text=text)
            sent += 1
        except Forbidden:
            logger.info("broadcast: chat %s blocked the bot", chat)
    await _reply(update, t, t("bot.admin.sent", count=sent))


async def feedback_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Record a 👍/👎 under a paper and tick the pressed button."""
    query = update.callback_query
    if query is None or query.message is None:
        return
    t = await words_for(update, context)
    if not query.data:  # PTB checks the pattern only against non-empty data
        await query.answer(t("bot.stale_button"))
        return
    try:
        value, effect = await call(
            actions.vote,
            core(context),
            str(query.message.chat.id),
            str(query.from_user.id),
            query.data,
        )
    except FeedbackError as error:
        logger.info("vote refused: %s", error)
        await query.answer(views.answer_text(t("bot.vote.not_here")))
        return
    except Refusal as error:
        await query.answer(views.answer_text(error.worded(t)))
        return
    # Telegram shows a spinner on the button until the query is answered.
    await query.answer(views.vote_answer(t, value, views.learned_lines(t, effect)))
    # A message older than 48 hours comes back "inaccessible", without its keyboard.
    markup = query.message.reply_markup if isinstance(query.message, Message) else None
    if markup is not None:
        await query.edit_message_reply_markup(views.mark_vote(markup, query.data, value))


async def stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a button press no other handler took, so its spinner stops."""
    if update.callback_query is not None:
        t = await words_for(update, context)
        await update.callback_query.answer(t("bot.stale_button"))


async def unknown(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer an unknown command with a short help line (unless it names another bot)."""
    if not _for_another_bot(update, context):
        t = await words_for(update, context)
        await _reply(update, t, t("bot.short_help"))


async def plain_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer text that is no command with a hint (`main` wires it for private chats only)."""
    # Plain text gets a hint rather than a search: a stray message should not cost an embedding.
    t = await words_for(update, context)
    await _reply(update, t, t("bot.plain_text_hint"))
