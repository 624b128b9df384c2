"""The Channel protocol and the values that cross it: Message (one part) and Button."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Literal, Protocol, Self

from pydantic import TypeAdapter

from paperradar.compose.digests import DigestView

if TYPE_CHECKING:
    from paperradar.settings import Settings

MessageFormat = Literal["html", "markdown", "email", "page"]


@dataclass(frozen=True)
class Button:
    """An inline button under a message: a callback (feedback) or a link."""

    label: str
    callback_data: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Message:
    """One part of a rendered digest, ready for one `send` call.

    `text` is the body in `format`; email adds `subject`, an `html` alternative and `headers`
    (a deterministic Message-ID among them); the web archive names the page by `path`.
    """

    text: str
    format: MessageFormat
    buttons: tuple[tuple[Button, ...], ...] = ()
    subject: str | None = None
    html: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    path: str | None = None
    # A part after the first arrives without a notification, so one digest rings once.
    silent: bool = False


@cache
def _message_adapter() -> TypeAdapter[Message]:
    return TypeAdapter(Message)


def message_to_json(message: Message) -> dict[str, object]:
    """Return a part as JSON-ready data (the outbox stores rendered parts this way)."""
    data: dict[str, object] = _message_adapter().dump_python(message, mode="json")
    return data


def message_from_json(data: dict[str, object]) -> Message:
    """Rebuild a part stored by `message_to_json`."""
    return _message_adapter().validate_python(data)


class Channel(Protocol):
    """A delivery channel: `render` is pure, `send` makes one I/O call or raises ChannelError.

    Channels hold no retry, dedupe or bookkeeping code: `delivery.py` owns all of that.
    """

    name: str
    # Seconds between two parts to one recipient (the outbox paces each recipient by it).
    part_interval: float

    @classmethod
    def from_settings(cls, settings: Settings) -> Self | None:
        """Build the channel from its settings section; None when it is not configured.

        A half-configured section is a ConfigError with a fix-it message.
        """
        ...

    def render(self, digest: DigestView, recipient: str) -> list[Message]:
        """Render a recipient's digest (already filtered to its topics) into parts."""
        ...

    def send(self, message: Message, recipient: str) -> str:
        """Send one part; return the platform's id for it, or raise ChannelError."""
        ...

    def close(self) -> None:
        """Release connections held between sends (called once after each delivery run)."""
        ...
