"""Secrets never leave the process: every configured secret is cut out of text shown or kept.

`load_settings` registers the secrets it read; `redact` is applied at the edges, where text
leaves: the CLI's error line, every log line and traceback, and error texts stored in the
database (a run's, a delivery's, a summary's), which `status` and the web archive show.
Shapes that are always secret (a Telegram bot token, an `sk-…` API key, a webhook `key=`, a
URL's password) are cut even when nobody registered them: a library may echo another one.
"""

from __future__ import annotations

import re
import threading

from pydantic import BaseModel, SecretStr

MASK = "***"
# Shorter values would cut ordinary words out of messages.
MIN_SECRET_LENGTH = 6
ALWAYS_SECRET = (
    re.compile(r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{30,}"),  # a Telegram bot token, also in /bot<token>/
    re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"),  # OpenAI-style API keys
    re.compile(r"(?<=[?&]key=)[A-Za-z0-9_-]{16,}"),  # WeCom webhook keys
    re.compile(r"(?<=://)([^/\s:@]*):[^/\s@]+(?=@)"),  # user:password@ in a URL
)

# Longest first, so that a secret containing another is masked whole; replaced as a whole
# tuple, so `redact` reads it without a lock.
_secrets: tuple[str, ...] = ()
_lock = threading.Lock()


def _secret_values(model: BaseModel) -> list[str]:
    values: list[str] = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, SecretStr):
            values.append(value.get_secret_value())
        elif isinstance(value, BaseModel):
            values.extend(_secret_values(value))
        elif isinstance(value, dict):
            values.extend(v.get_secret_value() for v in value.values() if isinstance(v, SecretStr))
    return values


def register_secrets(settings: BaseModel, *extra: str | None) -> None:
    """Remember every secret of these settings (and `extra` values, such as a DB password)."""
    global _secrets
    found = [*_secret_values(settings), *(value for value in extra if value)]
    with _lock:
        known = {*_secrets, *(value for value in found if len(value) >= MIN_SECRET_LENGTH)}
        _secrets = tuple(sorted(known, key=len, reverse=True))


def redact(text: str) -> str:
    """Return the text with every registered secret and every secret-shaped value masked."""
    for secret in _secrets:
        text = text.replace(secret, MASK)
    for shape in ALWAYS_SECRET:
        text = shape.sub(_mask_shape, text)
    return text


def _mask_shape(found: re.Match[str]) -> str:
    # A URL's user stays readable; only its password goes.
    return f"{found.group(1)}:{MASK}" if found.re.groups else MASK
