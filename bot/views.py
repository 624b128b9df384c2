"""The bot's replies as Telegram HTML in the chat's language (pure: values in, escaped text out)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape as escape_attribute

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import CallbackQueryLimit, MessageLimit

from bot.actions import ChatState
from bot.topic_actions import AddedTopic, TopicDetails
from paperradar.i18n import Words
from paperradar.profiles.profile import Topic
from paperradar.rank.learned import VoteEffect
from paperradar.rank.search import SearchHit
from paperradar.readers import feedback
from paperradar.readers.refusal import Refusal
from paperradar.readers.topic_text import phrases
from paperradar.settings import ScheduleSettings
from paperradar.store.records import CustomTopic, Paper
from paperradar.store.states import DigestLanguage
from paperradar.text import clean_text, cut

# How much of a user's text a reply quotes back, and of an error message it shows.
ECHO_LIMIT = 200
ERROR_LIMIT = 500
MAX_REPLY = MessageLimit.MAX_TEXT_LENGTH
MAX_ANSWER = CallbackQueryLimit.ANSWER_CALLBACK_QUERY_TEXT_LENGTH


def escape(value: str) -> str:
    """Escape text for Telegram HTML (quotes stay readable outside attributes)."""
    return escape_attribute(value, quote=False)


def echo(value: str, limit: int = ECHO_LIMIT) -> str:
    """Quote a user's text back: cleaned, cut to `limit` characters, then escaped.

    Cutting first means the ellipsis never splits an entity such as `&amp;`.
    """
    return escape(cut(clean_text(value), limit))


def refusal_text(t: Words, error: BaseException) -> str:
    """What a reader is told about an error: a refusal in their words, else that we broke.

    Any other error is the operator's (logged in full): no setting, URL or stack reaches a reader.
    """
    if isinstance(error, Refusal):
        return echo(error.worded(t), ERROR_LIMIT)
    return t("bot.error.broken")


def answer_text(message: str) -> str:
    """A callback answer (plain text, not HTML) within Telegram's 200 characters."""
    return cut(clean_text(message), MAX_ANSWER)


def _units(text: str) -> int:
    """The length Telegram measures a text in: UTF-16 code units (an emoji is two)."""
    return len(text.encode("utf-16-le")) // 2


def fit(t: Words, text: str, limit: int = MAX_REPLY) -> str:
    """Keep a reply within Telegram's limit by dropping whole lines from its end.

    Every line a view writes closes the tags it opens, so what is kept still parses.
    """
    if _units(text) <= limit:
        return text
    kept: list[str] = []
    size = 1  # the closing "…"
    for line in text.split("\n"):
        size += _units(line) + 1
        if size > limit:
            break
        kept.append(line)
    return "\n".join([*kept, "…"]) if kept else t("bot.error.too_long")


def help_text(t: Words, *, admin: bool) -> str:
    """The commands, what the percent means, and the admin commands to admins."""
    lines = [t("bot.help.head"), "", t("bot.help.commands"), escape(t("common.percent_meaning"))]
    if admin:
        lines += ["", t("bot.help.admin")]
    return "\n".join(lines)


def greeting(t: Words, state: ChatState, *, is_new: bool) -> str:
    """Greet a chat in its language and say what it now receives and in which language."""
    count = len(state.subscription.topics)
    status = t("bot.start.subscribed", count=count) if is_new else t("bot.start.already")
    language = _language_name(t, state.subscription.language, state.shared.languages)
    return "\n".join(
        [
            t("bot.start.hello"),
            status,
            t("bot.start.next"),
            t("bot.start.language", language=language),
        ]
    )


def _language_name(t: Words, chosen: DigestLanguage | None, default: Sequence[str]) -> str:
    if chosen is not None:
        return t(f"common.language.{chosen.value}")
    named = "both" if {"zh", "en"} <= set(default) else (default[0] if default else "both")
    return t("bot.settings.default", value=t(f"common.language.{named}"))


def _title(t: Words, topic: Topic) -> str:
    """A topic's title in the reader's language, when it has one in that language."""
    return (topic.title_zh or topic.title) if t.language == "zh" else topic.title


def _paper_link(paper: Paper) -> str:
    url = f"https://arxiv.org/abs/{paper.arxiv_id}"
    return f'<a href="{escape_attribute(url)}">{escape(paper.arxiv_id)}</a>'


def _topic_line(t: Words, key: str, title: str, mark: str = "") -> str:
    return mark + t("bot.topic.line", key=f"<code>{escape(key)}</code>", title=echo(title))


def topic_list(t: Words, state: ChatState) -> str:
    """List the shared topics (✓ when subscribed) and the chat's own topics."""
    lines = [t("bot.topics.shared")]
    for key, topic in state.shared.topics.items():
        mark = "✓ " if key in state.subscription.topics else "· "
        lines.append(_topic_line(t, key, _title(t, topic), mark))
    lines.append(t("bot.topics.own"))
    if state.own is None:
        lines.append(t("bot.topics.own_none"))
    else:
        for key, own in state.own.topics.items():
            line = _topic_line(t, key, _title(t, own), "· ")
            # Keys chosen before they kept clear of the shared ones: say which one /topic means.
            clash = t("bot.topics.own_clash") if key in state.shared.topics else ""
            lines.append(line + clash)
    return "\n".join(lines)


def topic_added(t: Words, added: AddedTopic) -> str:
    """Confirm a new topic: the English it is matched in, or what matching it untranslated means."""
    row = added.row
    lines = [t("bot.topic.added", topic=_topic_line(t, row.key, row.title))]
    if row.description_en:
        english = f"{row.title_en or ''}: {row.description_en}"
        lines.append(t("bot.topic.matched_in_english", english=echo(english)))
    if added.untranslated:
        keywords = _keywords(t, row) or echo(row.title)
        lines += [t("bot.topic.keywords_found", keywords=keywords), t("bot.topic.not_translated")]
    return "\n".join(lines)


def _keywords(t: Words, row: CustomTopic) -> str:
    words = row.keywords or list(phrases(row.description))
    return echo(t.join(words), 500)


def topic_details(t: Words, details: TopicDetails) -> str:
    """Show a topic's description, thresholds and recent picks."""
    topic = details.topic
    keywords = echo(t.join(topic.keywords), 500) or "—"
    lines = [
        f"<b>{escape(_title(t, topic))}</b> (<code>{escape(details.key)}</code>)",
        echo(details.row.description if details.row else topic.description, 1000),
        t("bot.topic.keywords", keywords=keywords),
        t("bot.topic.limits", percent=topic.min_percent, count=topic.max_picks),
        t("bot.topic.recent") if details.picks else t("bot.topic.no_picks"),
    ]
    for day, rank, paper in details.picks:
        lines.append(f"{t.day(day)} [{rank}] {_paper_link(paper)} {escape(paper.title)}")
    return "\n".join(lines)


def settings_text(t: Words, state: ChatState, schedule: ScheduleSettings) -> str:
    """Show a chat's delivery settings with the real values the defaults stand for."""
    subscription, topics = state.subscription, list(state.shared.topics.values())
    minimum = _span([topic.min_percent for topic in topics])
    cap = _span([topic.max_picks for topic in topics])
    if subscription.min_percent is None:
        minimum = t("bot.settings.each_topic", value=f"{minimum}%")
    else:
        minimum = f"{subscription.min_percent}%"
    cap = t("bot.settings.papers", value=subscription.max_items or cap)
    if subscription.max_items is None:
        cap = t("bot.settings.each_topic", value=cap)
    time = subscription.delivery_time or t("bot.settings.default", value=schedule.delivery_time)
    zone = subscription.timezone or t("bot.settings.default", value=schedule.delivery_timezone)
    language = _language_name(t, subscription.language, state.shared.languages)
    return "\n".join(
        [
            t("bot.settings.title"),
            t("bot.settings.language", value=language),
            t("bot.settings.minimum", value=minimum),
            t("bot.settings.cap", value=cap),
            t("bot.settings.time", value=escape(time)),
            t("bot.settings.zone", value=escape(zone)),
            t("bot.settings.change"),
        ]
    )


def _span(values: Sequence[int]) -> str:
    """`40`, or `40-60` when the topics differ (`—` when there are none)."""
    if not values:
        return "—"
    low, high = min(values), max(values)
    return f"{low}" if low == high else f"{low}-{high}"


def search_results(t: Words, query: str, hits: Sequence[SearchHit]) -> str:
    """List search hits, best first, with where they were picked before."""
    if not hits:
        return t("bot.search.empty")
    lines = [t("bot.search.head", query=echo(query))]
    for number, hit in enumerate(hits, start=1):
        paper = hit.paper
        lines.append(f"{number}. {escape(paper.title)} · {_paper_link(paper)}")
        if hit.picks:
            pick = hit.picks[0]
            topic = f"<code>{escape(pick.topic)}</code>"
            lines.append(t("bot.search.picked", topic=topic, day=t.day(pick.day)))
    return "\n".join(lines)


def learned_lines(t: Words, effect: VoteEffect | None) -> list[str]:
    """What a vote taught its topic, in words: more (or fewer) papers like this one."""
    if effect is None:
        return []
    key = "bot.vote.learned_up" if effect.value > 0 else "bot.vote.learned_down"
    return [t(key, topic=effect.topic_title, title=effect.title)]


def vote_answer(t: Words, value: int, learned: Sequence[str] = ()) -> str:
    """The answer to a vote: thanks, then one line per thing the topic learned from it."""
    thanks = t("bot.vote.noted_up") if value > 0 else t("bot.vote.noted_down")
    return answer_text("\n".join([thanks, *learned]))


def mark_vote(markup: InlineKeyboardMarkup, data: str, value: int) -> InlineKeyboardMarkup:
    """Return the keyboard with the pressed vote ticked (and its opposite unticked)."""
    chosen = feedback.decode(data).match_id
    rows = []
    for row in markup.inline_keyboard:
        buttons = []
        for button in row:
            callback = button.callback_data
            if isinstance(callback, str) and callback.startswith("fb:"):
                vote = feedback.decode(callback)
                label = button.text.removesuffix(" ✓")
                if vote.match_id == chosen and vote.value == value:
                    label += " ✓"
                button = InlineKeyboardButton(label, callback_data=callback)
            buttons.append(button)
        rows.append(buttons)
    return InlineKeyboardMarkup(rows)
