"""Every command and refusal of the bot, answered in the chat's language (zh and en).

Each reply is checked with `support.languages`: no CJK in an English reply and no English word
in a Chinese one, besides what it echoes (the reader's text, a paper's title). The language
comes from Telegram's `language_code` at /start, then from `/settings lang`.
"""

import re
from dataclasses import replace
from pathlib import Path

import pytest
from sqlmodel import col, select
from support.bot_api import BotApiServer, Chat, Failure, check_html, running_bot
from support.languages import wrong_language
from support.openai_api import ChatServer, api_error, json_completion
from support.outbox import telegram_context
from support.views import TOPICS

from bot import actions, topic_actions, views
from paperradar.app import App
from paperradar.embed.embeddings import embed_missing
from paperradar.i18n import words
from paperradar.i18n.catalog import catalog
from paperradar.llm.client import LLMClient
from paperradar.profiles.profile import Profile
from paperradar.readers import feedback
from paperradar.readers.topics import MAX_OWN_TOPICS
from paperradar.settings import LLMSettings
from paperradar.store.db import session_scope
from paperradar.store.records import CustomTopic, Paper, Subscription
from paperradar.store.states import DigestLanguage

REPO_ROOT = Path(__file__).resolve().parents[2]
READER, STRANGER = 2001, 2002
CODES = {"zh": "zh-hans", "en": "en-GB"}
SENTENCES = {
    "zh": "大模型的长上下文推理与KV缓存压缩",
    "en": "long-context reasoning with KV cache compression",
}
LANGUAGES = pytest.mark.parametrize("language", ["zh", "en"])


class Reader:
    """A chat that checks every reply it gets is in its language and parses."""

    def __init__(self, server: BotApiServer, language: str, chat: int = READER, **kw: int) -> None:
        self.chat = Chat(server, chat, **kw)
        self.language = language

    def ask(self, text: str, *echoed: str) -> str:
        reply = self.chat.ask(text, language=CODES[self.language])
        assert check_html(reply) is None, reply
        assert "PAPERRADAR" not in reply and "Traceback" not in reply
        assert not wrong_language(reply, self.language, *echoed), (text, reply)
        return reply


def _said(language: str, message: str, /, **values: object) -> str:
    return words(language)(message, **values)


def _refusal(language: str, message: str, /, **values: object) -> str:
    """A refusal as the bot sends it: plain text, escaped whole."""
    return views.escape(_said(language, message, **values))


def _titles(app: App) -> list[str]:
    with session_scope(app.engine) as session:
        return [paper.title for paper in session.exec(select(Paper))]


@LANGUAGES
def test_every_command_answers_in_the_language_the_chat_started_in(
    running: App, bot_api: BotApiServer, language: str
) -> None:
    reader = Reader(bot_api, language)
    greeting = reader.ask("/start")
    assert _said(language, "bot.start.hello") in greeting
    assert _said(language, "bot.start.already") in reader.ask("/start")
    with session_scope(running.engine) as session:
        row = session.exec(select(Subscription)).one()
        assert row.language == DigestLanguage(language)
    help_text = reader.ask("/help")
    assert _said(language, "common.percent_meaning") in help_text and "/broadcast" not in help_text
    assert _said(language, "bot.topics.own_none") in reader.ask("/topic list", *_topic_titles())
    shown = reader.ask("/topic show model_merging", "merging", *_titles(running))
    assert _said(language, "bot.topic.recent") in shown
    running.embedder.embed(["load the model here, not within a reply's wait"])
    assert _said(language, "bot.search.empty") in reader.ask("/search merging", "merging")
    with session_scope(running.engine) as session:
        embed_missing(session, running.embedder, session.exec(select(Paper)).all())
    found = reader.ask(
        "/search world models for agents", "world models for agents", *_titles(running)
    )
    assert "R-WoM" in found.splitlines()[1]
    parts = len(actions.today(running, str(READER)))
    assert reader.chat.say("/today", replies=parts, language=CODES[language])[0].reply_markup
    listed = reader.ask("/unsubscribe long_context", *_topic_titles())
    assert "· <code>long_context</code>" in listed
    assert "✓ <code>long_context</code>" in reader.ask("/subscribe long_context", *_topic_titles())
    settings = reader.ask("/settings", "Asia/Shanghai")
    assert _said(language, "bot.settings.default", value="09:00") in settings
    assert "50%" in reader.ask("/settings min 50", "Asia/Shanghai")
    assert _said(language, "bot.stop.done") in reader.ask("/stop")
    assert _said(language, "bot.refusal.stopped") in reader.ask("/today")


def _topic_titles() -> list[str]:
    return [text for topic in TOPICS.values() for text in (topic.title, topic.title_zh or "")]


@LANGUAGES
def test_every_refusal_is_one_plain_line_in_the_chats_language(
    running: App, bot_api: BotApiServer, language: str
) -> None:
    reader = Reader(bot_api, language)
    assert _said(language, "bot.refusal.not_started") in reader.ask("/today")
    assert _said(language, "bot.refusal.not_started") in reader.ask("/settings")
    reader.ask("/start")
    cases = {
        "/topic dance": ("bot.refusal.usage_topic", {}),
        "/topic add :": ("bot.refusal.topic_format", {}),
        "/topic add name: ; keywords: a": ("bot.refusal.topic_empty", {}),
        "/topic add " + "x" * 1200: (
            "bot.refusal.topic_too_long",
            {"title": 100, "description": 1000, "keywords": 20},
        ),
        "/topic show nope": ("bot.refusal.no_topic_here", {"key": "nope"}),
        "/subscribe": ("bot.refusal.usage_subscribe", {}),
        "/subscribe nope": (
            "bot.refusal.no_shared_topic",
            {"key": "nope", "keys": "model_merging, long_context"},
        ),
        "/unsubscribe": ("bot.refusal.usage_unsubscribe", {}),
        "/unsubscribe nope": ("bot.refusal.not_subscribed", {"key": "nope"}),
        "/search": ("bot.refusal.usage_search", {}),
        "/search " + "w " * 200: ("bot.refusal.search_too_long", {"limit": 300, "length": 399}),
        "/search 模型融合": ("bot.refusal.search_needs_english", {}),
        "/settings colour blue": ("bot.refusal.usage_settings", {}),
        "/settings min 10 20": ("bot.refusal.usage_settings", {}),
        "/settings lang fr": ("bot.refusal.language", {"value": "fr"}),
        "/settings min 150": ("bot.refusal.percent", {"value": "150"}),
        "/settings max 99": ("bot.refusal.max_items", {"value": "99"}),
        "/settings time 25:00": ("bot.refusal.delivery_time", {"value": "25:00"}),
        "/settings zone Mars/Olympus": ("bot.refusal.time_zone", {"value": "Mars/Olympus"}),
        "/shared add x: y": ("bot.admin.only_shared", {}),
        "/broadcast hi": ("bot.admin.only_broadcast", {}),
        "/topic remove nope": ("bot.topic.no_such_own", {}),
        "/frobnicate": ("bot.short_help", {}),
    }
    for command, (key, values) in cases.items():
        reply = reader.ask(command, *map(str, values.values()))
        assert _refusal(language, key, **values) in reply, (command, reply)
    (hint,) = reader.chat.replies_to("hello there", replies=1)
    assert hint.text == _said(language, "bot.plain_text_hint")
    for _ in range(MAX_OWN_TOPICS):
        reader.ask("/topic add Agents: tools", "Agents", "tools")
    too_many = _refusal(language, "bot.refusal.too_many_topics", count=MAX_OWN_TOPICS)
    assert too_many in reader.ask("/topic add A: b")


@LANGUAGES
def test_admin_commands_votes_and_a_broken_reply_are_worded_in_the_chats_language(
    running: App, bot_api: BotApiServer, language: str
) -> None:
    admin_id = running.settings.telegram.admin_user_ids[0]
    admin = Reader(bot_api, language, user_id=admin_id)
    admin.ask("/start")
    assert _said(language, "bot.help.admin") in admin.ask("/help")
    added = admin.ask(f"/shared add {SENTENCES[language]}", SENTENCES[language])
    assert "<code>" in added
    assert _said(language, "bot.topic.only_added_here") in admin.ask("/shared remove model_merging")
    assert _refusal(language, "bot.refusal.usage_shared") in admin.ask("/shared")
    assert _refusal(language, "bot.refusal.usage_broadcast") in admin.ask("/broadcast")
    sent = admin.chat.say("/broadcast Maintenance", replies=2, language=CODES[language])
    assert sent[-1].text == _said(language, "bot.admin.sent", count=1)

    parts = len(actions.today(running, str(READER)))
    (part, *_) = admin.chat.say("/today", replies=parts, language=CODES[language])
    assert part.reply_markup is not None
    up = part.reply_markup["inline_keyboard"][0][0]["callback_data"]
    for data in (up, feedback.encode(987654, feedback.DOWN), "stale"):
        bot_api.push_button(part, data)
    bot_api.wait_for(lambda state: len(state.answers) == 3, "three answers")
    answers = [answer["text"] for answer in bot_api.state.answers]
    # The thanks, then what the vote taught the topic (bot.vote.learned_up), in one answer.
    assert answers[0].startswith(_said(language, "bot.vote.noted_up"))
    assert len(answers[0]) > len(_said(language, "bot.vote.noted_up")) + 10
    assert answers[1:] == [
        _said(language, "bot.vote.not_here"),
        _said(language, "bot.stale_button"),
    ]

    before = len(bot_api.sent_to(READER))
    bot_api.fail_next(READER, Failure(400, "Bad Request: can't parse entities"))
    bot_api.push_command(READER, "/help", user_id=admin_id, language=CODES[language])
    bot_api.wait_for(lambda _state: len(bot_api.sent_to(READER)) > before, "the apology")
    assert bot_api.sent_to(READER)[-1].text == _said(language, "bot.error.broken")


@LANGUAGES
def test_a_bare_sentence_without_an_llm_is_kept_and_the_reader_told_what_that_means(
    running: App, bot_api: BotApiServer, language: str
) -> None:
    reader = Reader(bot_api, language)
    reader.ask("/start")
    sentence = SENTENCES[language]
    reply = reader.ask(f"/topic add {sentence}", sentence, "大模型", "长上下文推理", "KV缓存压缩")
    (row,) = _rows(running)
    if language == "zh":
        assert (row.key, row.title, row.title_en) == ("topic", sentence, None)
        assert row.keywords == ["大模型", "长上下文推理", "KV缓存压缩"]
        assert _said("zh", "bot.topic.not_translated") in reply
        assert "大模型、长上下文推理、KV缓存压缩" in reply
    else:
        assert (row.key, row.title) == (
            "long_context_reasoning_kv_cache",
            "Long-context reasoning with KV cache compression",
        )
        assert row.keywords == ["long-context reasoning", "KV cache compression"]
        assert _said("en", "bot.topic.not_translated") not in reply
    assert bot_api.state.chat_actions[-1]["action"] == "typing"
    shown = reader.ask(f"/topic show {row.key}", sentence, row.title, *row.keywords)
    assert _said(language, "bot.topic.no_picks") in shown
    assert _said(language, "bot.topic.removed") in reader.ask(f"/topic remove {row.key}")


def _rows(app: App) -> list[CustomTopic]:
    with session_scope(app.engine) as session:
        rows = session.exec(select(CustomTopic).order_by(col(CustomTopic.id))).all()
        for row in rows:
            session.expunge(row)
        return list(rows)


def test_a_chinese_sentence_is_translated_by_the_llm_when_there_is_one(
    bot_context: App, bot_api: BotApiServer, chat_server: ChatServer, llm_settings: LLMSettings
) -> None:
    english = ["Long-context LLM reasoning and KV cache compression"] * 2
    keywords = ["large models", "long-context reasoning", "KV cache compression"]
    chat_server.script(json_completion({"english": english + keywords}))
    app = replace(bot_context, llm=LLMClient(llm_settings))
    with running_bot(app):
        reader = Reader(bot_api, "zh")
        reader.ask("/start")
        reply = reader.ask(f"/topic add {SENTENCES['zh']}", SENTENCES["zh"], *english, *keywords)
    assert _said("zh", "bot.topic.not_translated") not in reply
    assert "用于匹配的英文" in reply
    (row,) = _rows(app)
    assert (row.key, row.title_en, row.keywords_en) == (
        "long_context_llm_reasoning_kv_cache",
        english[0],
        keywords,
    )
    assert "大模型的长上下文推理" in chat_server.requests[0].text("user")


@LANGUAGES
def test_an_llm_that_does_not_answer_is_a_plain_sentence_and_nothing_is_stored(
    bot_context: App,
    bot_api: BotApiServer,
    chat_server: ChatServer,
    llm_settings: LLMSettings,
    language: str,
) -> None:
    chat_server.script(*[api_error(429, "slow down")] * 4)
    app = replace(bot_context, llm=LLMClient(llm_settings))
    with running_bot(app):
        reader = Reader(bot_api, language)
        reader.ask("/start")
        reply = reader.ask(f"/topic add {SENTENCES['zh']}", SENTENCES["zh"])
    assert reply == _said(language, "bot.refusal.translation_unavailable")
    assert not _rows(app)


def test_topics_kept_untranslated_are_translated_once_an_llm_is_configured(
    running: App, bot_api: BotApiServer, chat_server: ChatServer, llm_settings: LLMSettings
) -> None:
    Reader(bot_api, "zh").ask("/start")
    Reader(bot_api, "zh").ask(f"/topic add {SENTENCES['zh']}", SENTENCES["zh"], "大模型")
    assert topic_actions.translate_waiting(running) == 0
    english = ["Long-context reasoning", "Long-context reasoning and KV cache compression"]
    chat_server.script(json_completion({"english": [*english, "large models", "lc", "kv"]}))
    assert topic_actions.translate_waiting(replace(running, llm=LLMClient(llm_settings))) == 1
    (row,) = _rows(running)
    assert (row.key, row.title_en, row.keywords_en) == (
        "topic",
        english[0],
        ["large models", "lc", "kv"],
    )
    assert topic_actions.translate_waiting(replace(running, llm=LLMClient(llm_settings))) == 0


def test_the_chats_language_follows_settings_over_the_users_telegram_language(
    running: App, bot_api: BotApiServer
) -> None:
    chat = Chat(bot_api, READER)
    assert _said("zh", "bot.start.hello") in chat.ask("/start", language="zh-hans")
    assert _said("zh", "bot.settings.title") in chat.ask("/settings", language="en")
    assert "<b>Settings</b>" in chat.ask("/settings lang en", language="zh-hans")
    assert _said("en", "bot.short_help") == chat.ask("/nope", language="zh-hans")
    chat.ask("/settings lang both")
    assert _said("zh", "bot.short_help") == chat.ask("/nope", language="en")
    stranger = Chat(bot_api, STRANGER)
    assert _said("zh", "bot.refusal.not_started") in stranger.ask("/today", language="zh-tw")
    assert _said("en", "bot.refusal.not_started") in stranger.ask("/today", language="de")


def test_no_digest_yet_is_said_in_the_chats_language(
    bot_context: App, bot_api: BotApiServer
) -> None:
    # The seeded digest is the "default" profile's: a bot sharing "empty" has none yet.
    empty = Profile(name="empty", topics=dict(TOPICS))
    app = telegram_context(bot_context.settings, bot_context.engine, bot_context.embedder, [empty])
    with running_bot(app):
        reply = Chat(bot_api, STRANGER).ask("/start", language="zh")
        assert _said("zh", "bot.start.hello") in reply
        assert Chat(bot_api, STRANGER).ask("/today") == _said("zh", "bot.today.none")


REFUSED = re.compile(r"""(?:Error|Refusal|Unavailable|NotStarted)\(\s*"([a-z_]+\.[a-z0-9_.]+)\"""")


def test_every_refusal_the_code_raises_is_in_the_catalog() -> None:
    sources = [
        path for folder in ("src/paperradar", "bot") for path in (REPO_ROOT / folder).rglob("*.py")
    ]
    raised = {key for path in sources for key in REFUSED.findall(path.read_text("utf-8"))}
    assert len(raised) > 20
    assert not sorted(key for key in raised if key not in catalog())
