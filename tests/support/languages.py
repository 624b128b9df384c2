"""Check that a reply is worded in one language: no CJK in English, no English words in Chinese.

What the reader wrote (or a paper's own text) is echoed in any language, so the caller names it
and it is left out; so are tags, `<code>` spans, links and commands (`/topic add`), which stay
ASCII in both languages.
"""

from __future__ import annotations

import html
import re

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
# Kept out: code spans and links with their text, every other tag, and commands.
MARKUP = re.compile(r"<code>.*?</code>|<a [^>]*>.*?</a>|<[^>]+>", re.DOTALL)
COMMAND = re.compile(r"/[a-z_]+(?:@\w+)?")
# ASCII a Chinese reply may hold: names, command arguments and values.
CHINESE_MAY_HOLD = frozenset(
    {"arXiv", "PaperRadar", "LLM", "AI", "list", "add", "remove", "show", "lang", "zh", "en"}
    | {"both", "min", "max", "time", "zone", "off", "HH", "MM", "Asia", "Shanghai", "Europe"}
    | {"Berlin", "America", "New", "York", "KV"}
)


def chrome(reply: str, *echoed: str) -> str:
    """The reply's own words: without markup, verbatim spans and what it echoes."""
    text = html.unescape(MARKUP.sub(" ", reply))
    for value in sorted(echoed, key=len, reverse=True):
        text = text.replace(value, " ")
    return COMMAND.sub(" ", text)


def wrong_language(reply: str, language: str, *echoed: str) -> list[str]:
    """What in the reply is not in `language` (empty: it is worded in it)."""
    text = chrome(reply, *echoed)
    if language == "en":
        return CJK.findall(text)
    return [word for word in LATIN_WORD.findall(text) if word not in CHINESE_MAY_HOLD]
