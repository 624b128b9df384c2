"""WeCom group-bot channel: inert markdown split by UTF-8 bytes, POSTed to the bot's webhook."""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections import deque
from functools import cache
from typing import Protocol, Self

import httpx
from jinja2 import Environment
from markupsafe import Markup

from paperradar.compose.digests import DigestView
from paperradar.compose.reading import Reading
from paperradar.compose.rendering import (
    digest_environment,
    pack_blocks,
    template_variables,
)
from paperradar.deliver.channels.protocol import Message
from paperradar.errors import ChannelError, ConfigError
from paperradar.settings import Settings, WeComSettings
from paperradar.text import clean_text

logger = logging.getLogger(__name__)

# WeCom counts a markdown message's content in UTF-8 bytes: at most 4096.
MARKDOWN_MAX_BYTES = 4096
# Room kept in every part for the "(2/3)" mark appended after packing.
PART_MARK_BYTES = 64
RATE_WINDOW_SECONDS = 60.0
# 45009: the bot went over its rate limit; -1: WeCom is busy. Both pass; the rest need a person.
RETRYABLE_ERRCODES = frozenset({-1, 45009})
INVALID_WEBHOOK = 93000
ERRCODE_HINTS = {
    45009: "the bot sent more than 20 messages in a minute; retried on the next run",
    -1: "WeCom is busy; retried on the next run",
}
# WeCom markdown has no escape character, so markup characters in paper text become their
# fullwidth forms (U+FF01 onwards): no bold, italics, code, quotes, headings, links, <font>
# or <@mention> can come from a title or an abstract.
MARKUP_CHARACTERS = "<>*[]`#"
FULLWIDTH_OFFSET = 0xFEE0
LOOKALIKES = {ord(character): ord(character) + FULLWIDTH_OFFSET for character in MARKUP_CHARACTERS}
WHITESPACE = re.compile(r"\s+")
# A zero-width space after "://" stops clients from turning a bare URL into a link.
URL_SCHEME_BREAK = ":\u200b//"


def neutralise_markdown(value: object) -> object:
    """Make text inert in WeCom markdown: one line, markup characters swapped, no bare links."""
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    flat = clean_text(WHITESPACE.sub(" ", value).strip())
    return flat.translate(LOOKALIKES).replace("://", URL_SCHEME_BREAK)


def utf8_size(text: str) -> int:
    """Measure text as WeCom does: in UTF-8 bytes."""
    return len(text.encode("utf-8"))


@cache
def _environment() -> Environment:
    # Markdown, not HTML: `finalize` neutralises every value instead of escaping.
    return digest_environment(autoescape=False, finalize=neutralise_markdown)


def render_markdown(view: DigestView, *, max_bytes: int = MARKDOWN_MAX_BYTES) -> list[str]:
    """Render a digest as WeCom markdown parts of at most `max_bytes` bytes, split on items."""
    template = _environment().get_template("wecom.md.j2")
    module = template.make_module(template_variables(view))

    def block(macro: str, *arguments: object) -> str:
        return str(getattr(module, macro)(*arguments))

    reading = Reading.of(view)
    blocks = [block("header")]
    if view.people:
        heading = reading.t("digest.people.heading", count=len(view.people))
        blocks.append(block("side", heading, reading.people()))
    if view.announced and view.items:
        for section in view.sections:
            if not section.items:
                blocks.append(block("heading", section))
            for index, item in enumerate(section.items):
                blocks.append(block("item", section, item, index == 0))
    if view.updates:
        heading = reading.t("updates.heading", count=len(view.updates))
        blocks.append(block("side", heading, reading.updates()))
    parts = pack_blocks(blocks, limit=max_bytes - PART_MARK_BYTES, size=utf8_size)
    if len(parts) == 1:
        return parts
    total = len(parts)
    return [part + block("part_mark", number, total) for number, part in enumerate(parts, 1)]


class Clock(Protocol):
    """Where the rate limiter reads the time and waits; tests pass one that only pretends."""

    def monotonic(self) -> float:
        """Return seconds on a clock that never goes back."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait this many seconds."""
        ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        """Return `time.monotonic()`."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """Block for `seconds`."""
        time.sleep(seconds)


class RateLimiter:
    """Let at most `limit` sends through in any sliding window, waiting for the oldest to age."""

    def __init__(self, limit: int, *, window: float = RATE_WINDOW_SECONDS, clock: Clock) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._sent: deque[float] = deque()

    def wait(self) -> float:
        """Block until one more send fits the window, count it, and return the seconds waited."""
        waited = 0.0
        now = self.clock.monotonic()
        while True:
            while self._sent and now - self._sent[0] >= self.window:
                self._sent.popleft()
            if len(self._sent) < self.limit:
                self._sent.append(now)
                return waited
            pause = self.window - (now - self._sent[0])
            self.clock.sleep(pause)
            waited += pause
            now = self.clock.monotonic()


def _check_reply(response: httpx.Response, group: str) -> None:
    """Raise unless WeCom answered HTTP 200 with errcode 0; a dead key is a ConfigError."""
    if response.status_code != httpx.codes.OK:
        retryable = (
            response.is_server_error or response.status_code == httpx.codes.TOO_MANY_REQUESTS
        )
        raise ChannelError(
            f"WeCom webhook answered HTTP {response.status_code}", retryable=retryable
        )
    try:
        reply = response.json()
        errcode = int(reply["errcode"])
    except (ValueError, KeyError, TypeError) as error:
        raise ChannelError("WeCom webhook answered without an errcode", retryable=False) from error
    if errcode == 0:
        return
    if errcode == INVALID_WEBHOOK:
        raise ConfigError(
            f"WeCom rejected the webhook of group {group!r} (errcode {errcode}): the key is wrong "
            "or the bot was removed; copy the bot's address into "
            f"PAPERRADAR_WECOM__WEBHOOKS__{group.upper()} again"
        )
    detail = ERRCODE_HINTS.get(errcode) or str(reply.get("errmsg", ""))[:200]
    raise ChannelError(
        f"WeCom refused the message: errcode {errcode} ({detail})",
        retryable=errcode in RETRYABLE_ERRCODES,
    )


class WeComChannel:
    """Posts digests to WeCom groups through their bots' webhooks; a recipient is a group name."""

    name = "wecom"
    # Each bot's own limiter paces its group.
    part_interval = 0.0

    def __init__(self, settings: WeComSettings, *, clock: Clock | None = None) -> None:
        self._webhooks = {name: url.get_secret_value() for name, url in settings.webhooks.items()}
        clock = clock or SystemClock()
        # WeCom limits each bot (each webhook) separately.
        self._limiters = {
            name: RateLimiter(settings.messages_per_minute, clock=clock) for name in self._webhooks
        }
        self._client = httpx.Client(timeout=settings.timeout_seconds)

    @classmethod
    def from_settings(cls, settings: Settings) -> Self | None:
        """Build the channel when `wecom.webhooks` names at least one group."""
        if not settings.wecom.enabled:
            return None
        return cls(settings.wecom)

    def render(self, digest: DigestView, recipient: str) -> list[Message]:
        """Render the digest as markdown parts under WeCom's byte limit."""
        parts = render_markdown(digest)
        return [Message(text=part, format="markdown") for part in parts]

    def send(self, message: Message, recipient: str) -> str:
        """Post one part to the group's bot within its rate; return a hash of the content."""
        url = self._webhooks.get(recipient)
        if url is None:
            # Retryable: the part goes out once the group's webhook is configured.
            raise ChannelError(
                f"no WeCom webhook for group {recipient!r}: set "
                f"PAPERRADAR_WECOM__WEBHOOKS__{recipient.upper()} to its bot's address",
                retryable=True,
            )
        waited = self._limiters[recipient].wait()
        if waited:
            logger.info("wecom: waited %.0f s for group %s's rate limit", waited, recipient)
        payload = {"msgtype": "markdown", "markdown": {"content": message.text}}
        try:
            response = self._client.post(url, json=payload)
        except httpx.TransportError as error:
            # Only the error's type is named: its text could carry the URL, and so the key.
            raise ChannelError(
                f"WeCom webhook unreachable ({type(error).__name__})", retryable=True
            ) from None
        _check_reply(response, recipient)
        # WeCom returns no message id; a content hash identifies the part in logs.
        return "wecom-" + hashlib.sha256(message.text.encode("utf-8")).hexdigest()[:16]

    def close(self) -> None:
        """Close the HTTP connections kept between sends."""
        self._client.close()
