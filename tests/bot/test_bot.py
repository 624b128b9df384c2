"""The interactive bot end to end: real PTB Application, real updates, a loopback Bot API."""

import logging
from dataclasses import replace

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select
from support.bot_api import BotApiServer, Chat, Failure, check_html, running_bot
from support.openai_api import ChatServer, json_completion
from support.views import HOSTILE_ID, TOPICS

from bot import actions, views
from bot.__main__ import build_application
from paperradar.app import App
from paperradar.embed.embeddings import embed_missing
from paperradar.errors import ConfigError
from paperradar.i18n import words
from paperradar.llm.client import LLMClient
from paperradar.readers import feedback
from paperradar.settings import LLMSettings, TelegramSettings
from paperradar.store.db import session_scope
from paperradar.store.records import CustomTopic, Feedback, Paper, Subscription
from paperradar.store.states import DigestLanguage

ALICE, BOB, GROUP = 1001, 1002, -100500


@pytest.fixture
def admin_id(bot_context: App) -> int:
    return bot_context.settings.telegram.admin_user_ids[0]


def _subscription(engine: Engine, chat_id: int) -> Subscription:
    with session_scope(engine) as session:
        row = session.exec(select(Subscription).where(Subscription.recipient == str(chat_id))).one()
        session.expunge(row)
        return row


def _own_topics(engine: Engine, chat_id: int) -> list[CustomTopic]:
    profile = f"sub-{_subscription(engine, chat_id).id}"
    with session_scope(engine) as session:
        query = select(CustomTopic).where(CustomTopic.profile == profile)
        return list(session.exec(query.order_by(col(CustomTopic.id))).all())


def test_start_registers_the_chat_for_every_shared_topic_and_greets_in_its_language(
    running: App, bot_api: BotApiServer
) -> None:
    assert "你好" in Chat(bot_api, ALICE).ask("/start", language="zh-hans")
    assert "Hi!" in Chat(bot_api, BOB).ask("/start", language="en")
    assert "already registered" in Chat(bot_api, BOB).ask("/start")
    assert "Hi!" in Chat(bot_api, GROUP, user_id=BOB).ask("/start@paperradar_test_bot")
    assert _subscription(running.engine, ALICE).topics == list(TOPICS)
    assert _subscription(running.engine, BOB).active
    assert _subscription(running.engine, GROUP).topics == list(TOPICS)


def test_the_bot_will_not_start_without_a_token(bot_context: App) -> None:
    settings = bot_context.settings.model_copy(update={"telegram": TelegramSettings()})
    with pytest.raises(ConfigError, match="PAPERRADAR_TELEGRAM__BOT_TOKEN"):
        build_application(replace(bot_context, settings=settings))


def test_help_unknown_commands_and_bad_arguments_get_a_short_line_never_a_traceback(
    running: App, bot_api: BotApiServer, admin_id: int
) -> None:
    chat = Chat(bot_api, ALICE)
    chat.ask("/start")
    assert "/topic add" in chat.ask("/help")
    assert "/broadcast" not in chat.ask("/help")
    assert "/broadcast" in Chat(bot_api, ALICE, user_id=admin_id).ask("/help")
    assert "don't know that one" in chat.ask("/frobnicate now")
    replies = [
        chat.ask("/topic dance"),
        chat.ask("/topic add :"),
        chat.ask("/subscribe"),
        chat.ask("/subscribe no_such_topic"),
        chat.ask("/settings min 150"),
        chat.ask("/settings colour blue"),
        chat.ask("/search"),
    ]
    assert "usage: /topic" in replies[0]
    assert "&lt;name&gt;: &lt;description&gt;" in replies[1]
    assert not _own_topics(running.engine, ALICE)
    assert "no topic 'no_such_topic'" in replies[3]
    assert "0-100" in replies[4]
    for reply in replies:
        assert "Traceback" not in reply
        assert check_html(reply) is None


def test_subscriptions_change_only_the_chat_that_asks(running: App, bot_api: BotApiServer) -> None:
    alice, bob = Chat(bot_api, ALICE), Chat(bot_api, BOB)
    alice.ask("/start")
    bob.ask("/start")
    listed = alice.ask("/unsubscribe long_context")
    assert "✓ <code>model_merging</code>" in listed
    assert "· <code>long_context</code>" in listed
    assert _subscription(running.engine, ALICE).topics == ["model_merging"]
    assert _subscription(running.engine, BOB).topics == list(TOPICS)
    alice.ask("/subscribe long_context")
    assert _subscription(running.engine, ALICE).topics == list(TOPICS)
    assert "Stopped" in bob.ask("/stop")
    assert not _subscription(running.engine, BOB).active


def test_own_topics_are_added_shown_and_removed_per_chat(
    running: App, bot_api: BotApiServer
) -> None:
    alice, bob = Chat(bot_api, ALICE), Chat(bot_api, BOB)
    alice.ask("/start")
    bob.ask("/start")
    added = alice.ask(
        "/topic add Diffusion LMs: text generation with discrete diffusion language models; "
        "keywords: masked diffusion, discrete diffusion"
    )
    assert "<code>diffusion_lms</code>" in added
    (row,) = _own_topics(running.engine, ALICE)
    assert (row.key, row.keywords) == ("diffusion_lms", ["masked diffusion", "discrete diffusion"])
    assert "<code>diffusion_lms</code>" in alice.ask("/topic list")
    shown = alice.ask("/topic show diffusion_lms")
    assert "discrete diffusion language models" in shown and "No picks yet" in shown
    assert "no topic 'diffusion_lms'" in bob.ask("/topic show diffusion_lms")
    assert "No such topic" in bob.ask("/topic remove diffusion_lms")
    assert _own_topics(running.engine, ALICE)
    assert "Removed" in alice.ask("/topic remove diffusion_lms")
    assert not _own_topics(running.engine, ALICE)
    assert "Recent picks" in alice.ask("/topic show model_merging")


def test_a_chinese_topic_without_an_llm_is_kept_in_its_words_and_the_reader_told_plainly(
    running: App, bot_api: BotApiServer
) -> None:
    alice = Chat(bot_api, ALICE)
    alice.ask("/start", language="zh-hans")
    reply = alice.ask("/topic add 扩散语言模型：用离散扩散模型生成文本；关键词：掩码扩散，离散扩散")
    assert "<code>topic</code>" in reply and "掩码扩散、离散扩散" in reply
    assert "大语言模型（LLM）" in reply and "PAPERRADAR" not in reply
    (row,) = _own_topics(running.engine, ALICE)
    assert (row.title, row.title_en, row.keywords) == (
        "扩散语言模型",
        None,
        ["掩码扩散", "离散扩散"],
    )
    own = actions.chat_state(running, str(ALICE)).own
    assert own is not None
    topic = own.topics["topic"]
    assert (topic.title, topic.keywords) == ("扩散语言模型", ["掩码扩散", "离散扩散"])
    assert "扩散语言模型" in alice.ask("/topic list")


def test_a_chinese_topic_is_translated_once_by_the_llm_and_scored_in_english(
    bot_context: App, bot_api: BotApiServer, chat_server: ChatServer, llm_settings: LLMSettings
) -> None:
    chat_server.script(
        json_completion(
            {
                "english": [
                    "Diffusion language models",
                    "Generating text with discrete diffusion models",
                    "masked diffusion",
                ]
            }
        )
    )
    ctx = replace(bot_context, llm=LLMClient(llm_settings))
    with running_bot(ctx):
        Chat(bot_api, ALICE).ask("/start")
        reply = Chat(bot_api, ALICE).ask(
            "/topic add 扩散语言模型：用离散扩散模型生成文本；关键词：掩码扩散"
        )
    assert "Matched in English as" in reply
    (row,) = _own_topics(ctx.engine, ALICE)
    assert (row.key, row.title, row.keywords_en) == (
        "diffusion_language_models",
        "扩散语言模型",
        ["masked diffusion"],
    )
    assert len(chat_server.requests) == 1
    assert "用离散扩散模型生成文本" in chat_server.requests[0].text("user")
    own = actions.chat_state(ctx, str(ALICE)).own
    assert own is not None
    topic = own.topics["diffusion_language_models"]
    assert (topic.title_zh, topic.description) == (
        "扩散语言模型",
        "Generating text with discrete diffusion models",
    )


def test_today_sends_the_chats_topics_with_buttons_and_hostile_text_escaped(
    running: App, bot_api: BotApiServer
) -> None:
    alice = Chat(bot_api, ALICE)
    alice.ask("/start")
    alice.ask("/unsubscribe long_context")
    expected = actions.today(running, str(ALICE))
    parts = alice.say("/today", replies=len(expected))
    text = "\n".join(part.text for part in parts)
    assert "Model merging" in text and "Long context" not in text  # the chat reads English
    assert "&lt;script&gt;" in text and "<script" not in text
    for part in parts:
        assert part.parse_mode == "HTML" and check_html(part.text) is None
    keyboard = parts[-1].reply_markup
    assert keyboard is not None
    first_row = keyboard["inline_keyboard"][0]
    assert [button["text"][-1] for button in first_row[:2]] == ["👍", "👎"]
    assert first_row[2]["url"].startswith("https://arxiv.org/abs/")
    assert first_row[3]["url"].startswith("https://arxiv.org/pdf/")


def test_feedback_buttons_record_votes_answer_and_tick_the_pressed_button(
    running: App, bot_api: BotApiServer
) -> None:
    alice = Chat(bot_api, ALICE)
    alice.ask("/start")
    (part, *_) = alice.say("/today", replies=len(actions.today(running, str(ALICE))))
    assert part.reply_markup is not None
    up, down = part.reply_markup["inline_keyboard"][0][:2]
    bot_api.push_button(part, up["callback_data"])
    bot_api.wait_for(lambda state: len(state.edits) == 1, "the keyboard edit")
    bot_api.push_button(part, down["callback_data"])
    bot_api.wait_for(lambda state: len(state.edits) == 2, "the second keyboard edit")
    bot_api.push_button(part, feedback.encode(987654, feedback.UP))
    bot_api.wait_for(lambda state: len(state.answers) == 3, "three callback answers")

    answers = [answer.get("text", "") for answer in bot_api.state.answers]
    # After the thanks, what the vote taught the topic, in words (no numbers).
    assert answers[0].startswith("Thanks: noted 👍 “Model merging” will favour papers like “")
    assert answers[1].startswith("Thanks: noted 👎 “Model merging” will show fewer papers like “")
    assert "not sent to this chat" in answers[2]
    ticked = bot_api.state.edits[1]["reply_markup"]["inline_keyboard"][0]
    assert [button["text"] for button in ticked[:2]] == ["1 👍", "1 👎 ✓"]
    with session_scope(running.engine) as session:
        (vote,) = session.exec(select(Feedback)).all()
        assert (vote.paper_id, vote.topic, vote.value, vote.user_id) == (
            HOSTILE_ID,
            "model_merging",
            -1,
            str(ALICE),
        )
        assert feedback.topic_votes(session, "default")["model_merging"].disliked == (HOSTILE_ID,)


def test_search_finds_stored_papers_by_meaning_and_names_past_picks(
    running: App, bot_api: BotApiServer
) -> None:
    with session_scope(running.engine) as session:
        embed_missing(session, running.embedder, session.exec(select(Paper)).all())
    alice = Chat(bot_api, ALICE)
    alice.ask("/start")
    reply = alice.ask("/search world models that simulate computer-use agents")
    first = reply.splitlines()[1]
    assert "R-WoM" in first and "2510.11892" in first
    assert "picked for <code>" in reply


def test_settings_are_shown_changed_and_checked(running: App, bot_api: BotApiServer) -> None:
    alice = Chat(bot_api, ALICE)
    alice.ask("/start")
    shown = alice.ask("/settings")
    assert "language: English" in shown
    assert "delivery time: 09:00 (the default)" in shown
    assert "time zone: Asia/Shanghai (the default)" in shown
    assert "minimum percent: each topic's own (" in shown
    assert "语言：中英双语" in alice.ask("/settings language both")
    assert "language: English" in alice.ask("/settings lang en")
    assert "minimum percent: 60" in alice.ask("/settings min 60")
    assert "max items per topic: 3" in alice.ask("/settings max 3")
    assert "delivery time: 08:30" in alice.ask("/settings time 08:30")
    assert "HH:MM" in alice.ask("/settings time 25:00")
    assert "time zone: Europe/Berlin" in alice.ask("/settings zone Europe/Berlin")
    assert "unknown time zone" in alice.ask("/settings zone Mars/Olympus")
    assert "time zone: Asia/Shanghai (the default)" in alice.ask("/settings zone off")
    row = _subscription(running.engine, ALICE)
    assert (row.language, row.min_percent, row.max_items, row.delivery_time) == (
        DigestLanguage.EN,
        60,
        3,
        "08:30",
    )


def test_admin_commands_check_the_allow_list(
    running: App, bot_api: BotApiServer, admin_id: int
) -> None:
    alice, bob = Chat(bot_api, ALICE), Chat(bot_api, BOB)
    alice.ask("/start")
    bob.ask("/start")
    assert "Only admins" in alice.ask("/broadcast hello")
    assert "Only admins" in alice.ask("/shared add Agents: LLM agents that use tools")
    admin = Chat(bot_api, ALICE, user_id=admin_id)
    added = admin.ask("/shared add Tool use: LLM agents that call tools and APIs")
    assert "<code>tool_use</code>" in added
    assert "<code>tool_use</code>" in bob.ask("/topic list")
    bob.ask("/subscribe tool_use")
    assert "tool_use" in _subscription(running.engine, BOB).topics
    before = len(bot_api.sent_to(BOB))
    assert "Sent to 2 chats" in admin.say("/broadcast Maintenance at 22:00", replies=2)[-1].text
    assert bot_api.sent_to(BOB)[before].text == "Maintenance at 22:00"
    assert "Only topics added here" in admin.ask("/shared remove model_merging")
    assert "Removed" in admin.ask("/shared remove tool_use")


# --- the bug reports, one test each -----------------------------------------------------------


def test_today_after_stop_asks_for_start_and_the_chat_stays_stopped(
    running: App, bot_api: BotApiServer
) -> None:
    alice = Chat(bot_api, ALICE)
    alice.ask("/start")
    alice.ask("/unsubscribe long_context")
    alice.ask("/stop")
    for command in ("/today", "/topic list", "/settings min 10", "/subscribe long_context"):
        assert "send /start" in alice.ask(command)
    row = _subscription(running.engine, ALICE)
    assert (row.active, row.topics, row.min_percent) == (False, ["model_merging"], None)
    assert "send /start" in alice.ask("/stop")
    assert "Hi!" in alice.ask("/start")
    row = _subscription(running.engine, ALICE)
    assert (row.active, row.topics) == (True, ["model_merging"])


def test_a_vote_from_a_chat_that_never_started_is_refused_and_stores_nothing(
    running: App, bot_api: BotApiServer
) -> None:
    alice = Chat(bot_api, ALICE)
    alice.ask("/start")
    (part, *_) = alice.say("/today", replies=len(actions.today(running, str(ALICE))))
    assert part.reply_markup is not None
    up = part.reply_markup["inline_keyboard"][0][0]["callback_data"]
    bot_api.push_button(replace(part, chat_id=BOB), up)
    bot_api.wait_for(lambda state: len(state.answers) == 1, "the callback answer")
    assert "send /start" in bot_api.state.answers[0]["text"]
    assert not bot_api.state.edits
    with session_scope(running.engine) as session:
        assert not session.exec(select(Feedback)).all()
        assert not session.exec(
            select(Subscription).where(Subscription.recipient == str(BOB))
        ).all()


def test_an_over_long_search_is_refused_and_an_echoed_query_is_cut(
    running: App, bot_api: BotApiServer
) -> None:
    with session_scope(running.engine) as session:
        embed_missing(session, running.embedder, session.exec(select(Paper)).all())
    alice = Chat(bot_api, ALICE)
    alice.ask("/start")
    refused = alice.ask("/search " + "world models " * 400)
    assert "at most 300 characters" in refused and len(refused) < 200
    query = " ".join(["world models that simulate computer-use agents"] * 6)
    reply = alice.ask(f"/search {query}")
    first = reply.splitlines()[0]
    assert "<i>world models that simulate" in first and first.endswith("…</i>:")
    assert query not in reply and len(first) < 300


def test_an_own_topic_never_takes_the_key_of_a_shared_topic(
    running: App, bot_api: BotApiServer, admin_id: int
) -> None:
    alice, admin = Chat(bot_api, ALICE), Chat(bot_api, ALICE, user_id=admin_id)
    alice.ask("/start")
    assert "<code>model_merging_2</code>" in alice.ask("/topic add Model merging: my own take")
    assert "<code>tool_use</code>" in alice.ask("/topic add Tool use: agents that call tools")
    shared = admin.ask("/shared add Tool use: LLM agents that call tools and APIs")
    assert "<code>tool_use_2</code>" in shared
    listed = alice.ask("/topic list")
    for key in ("model_merging", "model_merging_2", "tool_use", "tool_use_2"):
        assert listed.count(f"<code>{key}</code>") == 1, key
    assert "my own take" in alice.ask("/topic show model_merging_2")


def test_topic_input_splits_on_the_first_colon_outside_urls_or_on_a_pipe(
    running: App, bot_api: BotApiServer
) -> None:
    alice = Chat(bot_api, ALICE)
    alice.ask("/start")
    # No name colon outside the link: one sentence, kept as text (Telegram HTML makes no link).
    bare = alice.ask("/topic add [x](javascript:alert(1))")
    assert "[x](javascript:alert(1))" in bare and "<a" not in bare
    alice.ask("/topic add Agents | LLM agents: tools, see https://example.org/a:b")
    alice.ask("/topic add https://example.org/world：world models for agents")
    alice.ask("/topic add [docs](https://x.org/a:b): what the linked page covers")
    assert [(row.title, row.description) for row in _own_topics(running.engine, ALICE)] == [
        ("[x](javascript:alert(1))", "[x](javascript:alert(1))"),
        ("Agents", "LLM agents: tools, see https://example.org/a:b"),
        ("https://example.org/world", "world models for agents"),
        ("[docs](https://x.org/a:b)", "what the linked page covers"),
    ]


def test_plain_text_gets_a_hint_in_private_chats_and_is_ignored_in_groups(
    running: App, bot_api: BotApiServer
) -> None:
    (hint,) = Chat(bot_api, ALICE).replies_to("what's new in model merging?", replies=1)
    assert "/help" in hint.text and "/search" in hint.text
    assert not Chat(bot_api, GROUP, user_id=BOB).replies_to("hello everyone", replies=0)
    assert not Chat(bot_api, GROUP, user_id=BOB).replies_to("/help@another_bot", replies=0)
    with session_scope(running.engine) as session:
        assert not session.exec(select(Subscription)).all()


def test_rate_limits_and_network_blips_log_one_warning_line_and_bugs_keep_their_traceback(
    running: App, bot_api: BotApiServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    bot_api.fail_next(
        ALICE,
        Failure(429, "Too Many Requests: retry after 1", retry_after=1),
        Failure(502, "Bad Gateway"),
        Failure(400, "Bad Request: message is too long"),
    )
    for _ in range(3):
        bot_api.push_command(ALICE, "/help")
    bot_api.wait_for(lambda state: bool(state.sent), "the reply after the third /help")
    assert [sent.text for sent in bot_api.sent_to(ALICE)] == [words("en")("bot.error.broken")]
    warned = [r for r in caplog.records if r.name == "bot.failures" and r.levelname == "WARNING"]
    assert [(r.getMessage().count("\n"), r.exc_info) for r in warned] == [(0, None), (0, None)]
    assert "RetryAfter" in warned[0].getMessage() and "NetworkError" in warned[1].getMessage()
    limiter = [r for r in caplog.records if r.name == "telegram.ext.AIORateLimiter"]
    assert [(r.levelname, r.exc_info) for r in limiter if "Rate limit" in r.getMessage()] == [
        ("INFO", None)
    ]
    (bug,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert bug.exc_info is not None and "too long" in str(bug.exc_info[1])


def test_a_reply_over_telegrams_limit_keeps_whole_lines_that_still_parse() -> None:
    lines = [f"<b>{number}</b> {'x' * 90}" for number in range(100)]
    fitted = views.fit(words("en"), "\n".join(lines))
    assert len(fitted) <= views.MAX_REPLY and fitted.endswith("\n…")
    assert check_html(fitted) is None
    assert fitted.split("\n")[:-1] == lines[: len(fitted.split("\n")) - 1]
    assert views.fit(words("en"), "short") == "short"
    assert views.echo("<b>" + "&" * 300) == "&lt;b&gt;" + "&amp;" * 196 + "…"
