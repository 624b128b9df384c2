"""The bot's replies as Telegram HTML (pure: values in, escaped text out)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape as escape_attribute

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import CallbackQueryLimit, MessageLimit

from bot.actions import SETTINGS_USAGE, ChatState, TopicDetails
from paperradar.rank.search import SearchHit
from paperradar.readers import feedback
from paperradar.store.records import CustomTopic, Paper, Subscription
from paperradar.text import clean_text, cut

# How much of a user's text a reply quotes back, and of an error message it shows.
ECHO_LIMIT = 200
ERROR_LIMIT = 500
MAX_REPLY = MessageLimit.MAX_TEXT_LENGTH
MAX_ANSWER = CallbackQueryLimit.ANSWER_CALLBACK_QUERY_TEXT_LENGTH

HELP = f"""<b>PaperRadar</b>: your daily arXiv digest, ranked against your research topics.

/today: today's digest now
/topic list: shared topics (✓ subscribed) and your own
/topic add &lt;name&gt;: &lt;description&gt; [; keywords: a, b]: a topic of your own, any language
   (or &lt;name&gt; | &lt;description&gt; when the name holds a colon)
/topic remove &lt;key&gt;: remove one of your own topics
/topic show &lt;key&gt;: a topic's settings and recent picks
/subscribe &lt;key&gt; · /unsubscribe &lt;key&gt;: shared topics
/search &lt;query&gt;: search the stored papers and past picks
{SETTINGS_USAGE}
/stop: no more digests in this chat
Under each paper: 👍 / 👎 teach the ranking what you want."""

ADMIN_HELP = (
    "Admin: /shared add &lt;name&gt;: &lt;description&gt; · /shared remove &lt;key&gt; · "
    "/broadcast &lt;text&gt;"
)


def escape(value: str) -> str:
    """Escape text for Telegram HTML (quotes stay readable outside attributes)."""
    return escape_attribute(value, quote=False)


def echo(value: str, limit: int = ECHO_LIMIT) -> str:
    """Quote a user's text back: cleaned, cut to `limit` characters, then escaped.

    Cutting first means the ellipsis never splits an entity such as `&amp;`.
    """
    return escape(cut(clean_text(value), limit))


def error_text(message: str) -> str:
    """An error message as a reply: one short escaped line."""
    return echo(message, ERROR_LIMIT)


def answer_text(message: str) -> str:
    """A callback answer (plain text, not HTML) within Telegram's 200 characters."""
    return cut(clean_text(message), MAX_ANSWER)


def _units(text: str) -> int:
    """The length Telegram measures a text in: UTF-16 code units (an emoji is two)."""
    return len(text.encode("utf-16-le")) // 2


def fit(text: str, limit: int = MAX_REPLY) -> str:
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
    return "\n".join([*kept, "…"]) if kept else TOO_LONG


SHORT_HELP = "Sorry, I don't know that one. /help lists what I can do."
# Plain text gets a hint rather than a search: a stray message should not cost an embedding.
PLAIN_TEXT_HINT = "Send /help to see what I can do; /search &lt;words&gt; searches papers."
STALE_BUTTON = "This button no longer works."
TOO_LONG = "That reply came out too long to send; /help lists the commands."
ERROR_REPLY = "Something went wrong on my side; please try again later. /help lists the commands."
GREETING = {
    "zh": "你好！我是 PaperRadar：每天从 arXiv 为你挑选与研究方向相关的论文，附中英文摘要。",
    "en": "Hi! I'm PaperRadar: every arXiv day I pick the papers that match your research topics.",
}


def greeting(state: ChatState, *, language: str, is_new: bool) -> str:
    """Greet a chat in its user's language and say what it now receives."""
    first = GREETING["zh" if language.startswith("zh") else "en"]
    status = (
        f"This chat now receives <b>{len(state.subscription.topics)}</b> shared topic(s)."
        if is_new
        else "This chat is already registered."
    )
    return f"{first}\n{status} /topic list shows them; /help shows everything."


def _paper_link(paper: Paper) -> str:
    url = f"https://arxiv.org/abs/{paper.arxiv_id}"
    return f'<a href="{escape_attribute(url)}">{escape(paper.arxiv_id)}</a>'


def _topic_line(key: str, title: str, mark: str = "") -> str:
    return f"{mark}<code>{escape(key)}</code>: {echo(title)}"


def topic_list(state: ChatState) -> str:
    """List the shared topics (✓ when subscribed) and the chat's own topics."""
    lines = [f"<b>Shared topics</b> ({escape(state.shared.name)}):"]
    for key, topic in state.shared.topics.items():
        mark = "✓ " if key in state.subscription.topics else "· "
        lines.append(_topic_line(key, topic.title_zh or topic.title, mark))
    lines.append("<b>Your own topics</b>:")
    if state.own is None:
        lines.append("none yet: /topic add &lt;name&gt;: &lt;description&gt;")
    else:
        for key, own in state.own.topics.items():
            line = _topic_line(key, own.title_zh or own.title, "· ")
            # Keys chosen before they kept clear of the shared ones: say which one /topic means.
            clash = (
                " (yours: /topic show and remove mean this one)"
                if key in state.shared.topics
                else ""
            )
            lines.append(line + clash)
    return "\n".join(lines)


def topic_added(row: CustomTopic) -> str:
    """Confirm a new topic, showing the English it is matched in when it was translated."""
    text = f"Added {_topic_line(row.key, row.title)}. It is scored from the next run."
    if row.description_en:
        english = f"{row.title_en or ''}: {row.description_en}"
        text += f"\nMatched in English as: <i>{echo(english)}</i>"
    return text


def topic_details(details: TopicDetails) -> str:
    """Show a topic's description, thresholds and recent picks."""
    topic = details.topic
    lines = [
        f"<b>{escape(topic.title_zh or topic.title)}</b> (<code>{escape(details.key)}</code>)",
        echo(details.row.description if details.row else topic.description, 1000),
        f"keywords: {echo(', '.join(topic.keywords), 500) or '—'}",
        f"minimum {topic.min_percent}% · up to {topic.max_picks} picks a day",
        "<b>Recent picks</b>:" if details.picks else "No picks yet.",
    ]
    for day, rank, paper in details.picks:
        lines.append(f"{day} [{rank}] {_paper_link(paper)} {escape(paper.title)}")
    return "\n".join(lines)


def settings_text(subscription: Subscription) -> str:
    """Show a chat's delivery settings."""
    minimum = subscription.min_percent
    return "\n".join(
        [
            "<b>Settings</b>",
            f"language: {subscription.language or 'the profile default (zh + en)'}",
            f"minimum percent: {minimum if minimum is not None else 'each topic default'}",
            f"max items per topic: {subscription.max_items or 'each topic default'}",
            f"delivery time: {subscription.delivery_time or 'the default'}",
            f"time zone: {subscription.timezone or 'the default'}",
            "Change: /settings language zh|en|both · min 50 · max 5 · time 08:30|off"
            " · zone Europe/Berlin|off",
        ]
    )


def search_results(query: str, hits: Sequence[SearchHit]) -> str:
    """List search hits with their similarity and where they were picked before."""
    if not hits:
        return "No stored papers yet: search works once a day has been fetched."
    lines = [f"<b>Closest stored papers to</b> <i>{echo(query)}</i>:"]
    for number, hit in enumerate(hits, start=1):
        paper = hit.paper
        lines.append(
            f"{number}. {escape(paper.title)} · {_paper_link(paper)} · {hit.similarity:.2f}"
        )
        if hit.picks:
            pick = hit.picks[0]
            lines.append(f"   picked for <code>{escape(pick.topic)}</code> on {pick.day}")
    return "\n".join(lines)


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
