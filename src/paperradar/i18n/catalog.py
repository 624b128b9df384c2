"""Load and check the message catalogs: `messages/*.yaml`, one file per area of the product."""

from __future__ import annotations

import string
from functools import cache
from importlib import resources
from typing import Literal

import yaml

from paperradar.errors import ConfigError

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("zh", "en")
# A text is one string, or one string per CLDR plural category (`other` always present).
Forms = dict[str, str]
Catalog = dict[str, dict[Language, Forms]]


def placeholders(text: str) -> frozenset[str]:
    """The `{names}` a text fills in."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name)


def _forms(key: str, language: str, value: object) -> Forms:
    if isinstance(value, str):
        return {"other": value}
    if (
        isinstance(value, dict)
        and "other" in value
        and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
    ):
        return dict(value)
    raise ConfigError(f"message {key} ({language}): a string, or plural forms with `other`")


def check_entry(key: str, entry: object) -> dict[Language, Forms]:
    """Check one message: both languages, and one set of placeholders in every form."""
    if not isinstance(entry, dict) or set(entry) != set(LANGUAGES):
        raise ConfigError(f"message {key}: needs exactly `zh` and `en`")
    checked = {language: _forms(key, language, entry[language]) for language in LANGUAGES}
    names = {placeholders(text) for forms in checked.values() for text in forms.values()}
    if len(names) > 1:
        raise ConfigError(f"message {key}: zh and en fill in different placeholders {names}")
    return checked


def parse_area(area: str, text: str) -> Catalog:
    """Parse one area's YAML into `{area.key: {language: forms}}`."""
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ConfigError(f"messages/{area}.yaml must map keys to messages")
    return {f"{area}.{key}": check_entry(f"{area}.{key}", entry) for key, entry in data.items()}


@cache
def catalog() -> Catalog:
    """Every area's messages, checked; loaded once per process."""
    folder = resources.files("paperradar.i18n") / "messages"
    merged: Catalog = {}
    for item in sorted(folder.iterdir(), key=lambda item: item.name):
        if item.name.endswith(".yaml"):
            merged.update(parse_area(item.name.removesuffix(".yaml"), item.read_text("utf-8")))
    return merged
