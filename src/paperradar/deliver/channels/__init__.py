"""Channels deliver rendered digests: the protocol's values, the registry and `build_channels`."""

from __future__ import annotations

from paperradar.deliver.channels.email import EmailChannel
from paperradar.deliver.channels.protocol import (
    Button,
    Channel,
    Message,
    MessageFormat,
    message_from_json,
    message_to_json,
)
from paperradar.deliver.channels.telegram import TelegramChannel
from paperradar.deliver.channels.wecom import WeComChannel
from paperradar.settings import Settings

__all__ = [
    "CHANNELS",
    "Button",
    "Channel",
    "Message",
    "MessageFormat",
    "build_channels",
    "message_from_json",
    "message_to_json",
]

# Adding a channel: one module with a class satisfying Channel, plus one entry here.
CHANNELS: dict[str, type[Channel]] = {
    "telegram": TelegramChannel,
    "wecom": WeComChannel,
    "email": EmailChannel,
}


def build_channels(settings: Settings) -> dict[str, Channel]:
    """Build every configured channel; unconfigured ones are absent, half-configured ones raise."""
    channels: dict[str, Channel] = {}
    for name, channel_class in CHANNELS.items():
        channel = channel_class.from_settings(settings)
        if channel is not None:
            channels[name] = channel
    return channels
