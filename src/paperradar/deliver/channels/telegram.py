"""Telegram: the HTML subset, split at 4096 characters on item boundaries, sent with PTB's Bot."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Self

from jinja2.environment import TemplateModule
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import MessageLimit, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest

from paperradar.compose.digests import DigestView, ItemView, TopicSection
from paperradar.compose.reading import Reading
from paperradar.compose.rendering import digest_environment, strip_control_characters
from paperradar.deliver.channels.protocol import Button, Message
from paperradar.errors import ChannelError, ConfigError
from paperradar.readers import feedback
from paperradar.settings import Settings, TelegramSettings
from paperradar.text import cut

LIMIT = int(MessageLimit.MAX_TEXT_LENGTH)
# Room kept in every part for its "(2/3)" marker.
MARKER_ROOM = 16
ABS_URL = "https://arxiv.org/abs/{}"
PDF_URL = "https://arxiv.org/pdf/{}"


@dataclass(frozen=True)
class Clip:
    """How many characters of each free-text field an item shows (0: leave the field out)."""

    title: int
    title_zh: int
    authors: int
    reason: int
    tldr: int
    abstract: int


# Tried in order until an item fits one message. Escaping can grow a character to six
# (`"` → `&quot;`), and the last level stays under the limit even then.
CLIPS = (
    Clip(title=300, title_zh=200, authors=300, reason=300, tldr=500, abstract=800),
    Clip(title=200, title_zh=120, authors=150, reason=150, tldr=250, abstract=400),
    Clip(title=200, title_zh=0, authors=0, reason=0, tldr=0, abstract=0),
)
# A contents line shows this much of a title; a side section's line, this much of each text.
CONTENTS_TITLE = 60
SIDE_TEXT = 200


def telegram_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 units), taken on the raw HTML (an upper bound)."""
    return len(text.encode("utf-16-le")) // 2


@cache
def _template() -> TemplateModule:
    environment = digest_environment(autoescape=True, finalize=strip_control_characters)
    environment.filters["cut"] = cut
    return environment.get_template("telegram.html.j2").module


def _macro(reading: Reading, name: str, *args: object) -> str:
    """Render one macro of the Telegram template (a block of HTML) for one reading."""
    module = _template()
    macro: Callable[..., object] = getattr(module, name)
    return str(macro(reading, *args))


def item_block(reading: Reading, item: ItemView) -> str:
    """Render one item, shortened until it fits in one message on its own."""
    for clip in CLIPS:
        block = _macro(reading, "item", item, clip)
        if telegram_length(block) <= LIMIT - MARKER_ROOM:
            break
    return block


def item_buttons(reading: Reading, item: ItemView) -> tuple[Button, ...]:
    """The row under an item: 👍 / 👎 naming its number in the digest, then abs and pdf links."""
    match_id = item.match.id or 0
    t = reading.t
    return (
        Button(t("digest.vote_up", number=item.number), feedback.encode(match_id, feedback.UP)),
        Button(t("digest.vote_down", number=item.number), feedback.encode(match_id, feedback.DOWN)),
        Button("abs", url=ABS_URL.format(item.paper.arxiv_id)),
        Button("pdf", url=PDF_URL.format(item.paper.arxiv_id)),
    )


@dataclass(frozen=True)
class Block:
    """A piece of a message: HTML, buttons, its section, and whether it opens with the heading."""

    text: str
    buttons: tuple[Button, ...] | None = None
    section: TopicSection | None = None
    heading: bool = False


def _blocks(reading: Reading) -> list[Block]:
    """The digest as blocks: header, contents, then each item (a heading rides on its first)."""
    view = reading.view
    blocks = [Block(_macro(reading, "header"))]
    if not view.announced:
        return blocks
    if view.items:
        blocks.append(Block(_macro(reading, "contents", CONTENTS_TITLE)))
    if view.people:
        heading = reading.t("digest.people.heading", count=len(view.people))
        blocks.append(Block(_macro(reading, "side", heading, reading.people(), SIDE_TEXT)))
    for section in view.sections:
        heading = _macro(reading, "section_title", section, False)
        if not section.items:
            blocks.append(Block(heading, None, section, heading=True))
        for index, item in enumerate(section.items):
            text = item_block(reading, item)
            if index == 0 and telegram_length(f"{heading}\n{text}") <= LIMIT - MARKER_ROOM:
                text, opens = f"{heading}\n{text}", True
            else:
                opens = False
                if index == 0:
                    blocks.append(Block(heading, None, section, heading=True))
            blocks.append(Block(text, item_buttons(reading, item), section, heading=opens))
    if view.updates:
        heading = reading.t("updates.heading", count=len(view.updates))
        blocks.append(Block(_macro(reading, "side", heading, reading.updates(), SIDE_TEXT)))
    return blocks


def render_digest(view: DigestView) -> list[Message]:
    """Render a digest as messages of at most 4096 characters, split only between blocks.

    A message that opens in the middle of a topic repeats its heading, marked as continued.
    """
    reading = Reading.of(view)
    parts: list[tuple[list[str], list[tuple[Button, ...]]]] = []
    for block in _blocks(reading):
        fits = parts and (
            telegram_length("\n\n".join([*parts[-1][0], block.text])) <= LIMIT - MARKER_ROOM
        )
        if fits:
            parts[-1][0].append(block.text)
        elif block.section is not None and not block.heading:
            heading = _macro(reading, "section_title", block.section, True)
            parts.append(([f"{heading}\n{block.text}"], []))
        else:
            parts.append(([block.text], []))
        if block.buttons:
            parts[-1][1].append(block.buttons)
    messages = []
    for number, (texts, rows) in enumerate(parts, start=1):
        marker = f"<i>({number}/{len(parts)})</i>\n" if len(parts) > 1 else ""
        body = marker + "\n\n".join(texts)
        messages.append(Message(text=body, format="html", buttons=tuple(rows), silent=number > 1))
    return messages


def reply_markup(buttons: Sequence[Sequence[Button]]) -> InlineKeyboardMarkup | None:
    """Turn a message's button rows into Telegram's inline keyboard."""
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(button.label, callback_data=button.callback_data)
                if button.callback_data
                else InlineKeyboardButton(button.label, url=button.url)
                for button in row
            ]
            for row in buttons
        ]
    )


def chat_id(recipient: str) -> int | str:
    """A recipient as the Bot API wants it: a numeric chat id, or an @channel name."""
    return int(recipient) if recipient.lstrip("-").isdigit() else recipient


def channel_error(error: TelegramError) -> ChannelError | ConfigError:
    """Map a PTB error: flood control and network trouble are retried, refusals are final."""
    if isinstance(error, InvalidToken):
        return ConfigError(
            f"Telegram rejected the bot token ({error}): set PAPERRADAR_TELEGRAM__BOT_TOKEN to the "
            "token from @BotFather (and telegram.base_url to your Bot API server, if self-hosted)"
        )
    if isinstance(error, ChatMigrated):
        return ChannelError(
            f"the group became a supergroup: its chat id is now {error.new_chat_id}",
            retryable=False,
        )
    if isinstance(error, Forbidden | BadRequest):
        return ChannelError(f"Telegram refused the message: {error.message}", retryable=False)
    if isinstance(error, RetryAfter | NetworkError):
        return ChannelError(f"Telegram is unavailable for now: {error.message}", retryable=True)
    return ChannelError(f"Telegram error: {error.message}", retryable=False)


def build_bot(settings: TelegramSettings) -> ExtBot[Any]:
    """PTB's Bot on the configured Bot API server, behind PTB's global rate limiter."""
    if settings.bot_token is None:
        raise ConfigError("telegram.bot_token is not set (set PAPERRADAR_TELEGRAM__BOT_TOKEN)")
    timeout = settings.timeout_seconds
    return ExtBot(
        token=settings.bot_token.get_secret_value(),
        base_url=settings.base_url,
        base_file_url=settings.base_file_url,
        request=HTTPXRequest(read_timeout=timeout, write_timeout=timeout, connect_timeout=timeout),
        rate_limiter=AIORateLimiter(
            overall_max_rate=settings.rate_per_second,
            group_max_rate=settings.group_rate_per_minute,
            max_retries=settings.max_retries,
        ),
    )


class TelegramChannel:
    """Push digests to Telegram chats; PTB's async Bot runs in one event loop per delivery run."""

    name = "telegram"

    def __init__(self, settings: TelegramSettings) -> None:
        self.settings = settings
        self.part_interval = settings.chat_interval_seconds
        self._runner: asyncio.Runner | None = None
        self._bot: ExtBot[Any] | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Self | None:
        """Build the channel when a bot token is configured."""
        if not settings.telegram.enabled:
            return None
        return cls(settings.telegram)

    def render(self, digest: DigestView, recipient: str) -> list[Message]:
        """Render the digest as HTML parts with feedback and link buttons under each item."""
        return render_digest(digest)

    def send(self, message: Message, recipient: str) -> str:
        """Send one part to a chat; return Telegram's message id."""
        try:
            return self._run(self._send(message, recipient))
        except TelegramError as error:
            raise channel_error(error) from error

    def close(self) -> None:
        """Shut the Bot down and close its event loop."""
        if self._runner is None:
            return
        try:
            if self._bot is not None:
                self._runner.run(self._bot.shutdown())
        finally:
            self._runner.close()
            self._runner, self._bot = None, None

    def _run(self, coroutine: Coroutine[Any, Any, str]) -> str:
        if self._runner is None:
            self._runner = asyncio.Runner()
        return self._runner.run(coroutine)

    async def _send(self, message: Message, recipient: str) -> str:
        if self._bot is None:
            bot = build_bot(self.settings)
            try:
                await bot.initialize()  # getMe: checks the token before the first part goes out
            except TelegramError:
                await bot.shutdown()
                raise
            self._bot = bot
        sent = await self._bot.send_message(
            chat_id=chat_id(recipient),
            text=message.text,
            parse_mode=ParseMode.HTML,
            reply_markup=reply_markup(message.buttons),
            link_preview_options=LinkPreviewOptions(is_disabled=True),
            disable_notification=message.silent,
        )
        return str(sent.message_id)
