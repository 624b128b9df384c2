"""A topic as a reader writes it: `name: description; keywords: a, b`, or one bare sentence."""

from __future__ import annotations

import re
from dataclasses import dataclass

from paperradar.llm.translation import needs_english
from paperradar.readers.refusal import Refusal
from paperradar.text import clean_text

MAX_TITLE = 100
MAX_DESCRIPTION = 1000
MAX_KEYWORDS = 20
# A name derived from a bare sentence is at most this long (characters), per script.
SHORT_TITLE_LATIN = 60
SHORT_TITLE_OTHER = 20
# Keys are at most this long; a longer slug loses its small words first, then its last words.
MAX_KEY = 40
# Full-width colons, semicolons and commas count too (\uff1a \uff1b \uff0c \u3001).
NAME_COLONS = frozenset(":\uff1a")
# `name | description` (a full-width bar too) wins over any colon.
NAME_PIPE = re.compile(r"[|\uff5c]")
# The word before a colon, when it could be a URL's scheme (`https`, `javascript`).
SCHEME_BEFORE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*$")
# Schemes whose URLs have no `//` after the colon (`javascript:alert(1)`).
BARE_SCHEMES = frozenset({"javascript", "vbscript", "mailto"})
KEYWORDS_PART = re.compile(
    r"(?:^|[;\uff1b\n]\s*)(?:keywords?|kw|关键词|关键字)\s*[:\uff1a]\s*(?P<words>.*)$",
    re.IGNORECASE | re.DOTALL,
)
KEYWORD_SEPARATOR = re.compile(r"[,\uff0c\u3001;\uff1b\n]")
# Where a bare sentence splits into its phrases: punctuation, and the small words that join
# phrases (`X with Y`, `X的Y与Z`). Chinese has no spaces, so its joining words split anywhere.
CLAUSE = re.compile(r"[,.;:!?()\"\uff0c\u3002\uff1b\uff1a\uff01\uff1f\uff08\uff09\u3001]")
SMALL_WORDS = frozenset(
    {"with", "and", "or", "for", "of", "in", "on", "via", "using", "by", "from", "to", "the"}
    | {"a", "an", "under", "through", "based", "toward", "towards", "into", "over", "about"}
)
JOINING_WORDS = re.compile(
    rf"以及|基于|面向|用于|通过|关于|针对|的|与|和|及|或|\b(?:{'|'.join(sorted(SMALL_WORDS))})\b",
    re.IGNORECASE,
)


class TopicError(Refusal):
    """A topic to add or remove is malformed, unknown or one too many."""


@dataclass(frozen=True)
class TopicSpec:
    """A topic as a user typed it: `name: description; keywords: a, b`."""

    title: str
    description: str
    keywords: tuple[str, ...] = ()

    @property
    def texts(self) -> list[str]:
        """Every text of the topic, in the order translations come back."""
        return [self.title, self.description, *self.keywords]


def parse_topic_spec(text: str) -> TopicSpec:
    """Read `name: description` (or `name | description`) with an optional `; keywords: a, b`.

    Text with no such separator is one sentence about the topic: its name is derived (the
    sentence when short, else its first clause) and so are its keywords (its phrases).
    Colons may be full-width; a colon inside a URL (`https://`, `javascript:`) or inside a
    Markdown link's `(...)` is part of the name. Control and bidi-override characters go.
    """
    cleaned = clean_text(text).strip()
    pipe = NAME_PIPE.search(cleaned)
    at = pipe.start() if pipe else _name_colon(cleaned)
    if at is None:
        return _checked(_short_title(cleaned), *_keywords_of(cleaned, bare=True))
    title, rest = cleaned[:at].strip(), cleaned[at + 1 :].strip()
    if not title or not rest:
        raise TopicError("bot.refusal.topic_format")
    return _checked(title, *_keywords_of(rest, bare=False))


def _keywords_of(text: str, *, bare: bool) -> tuple[str, tuple[str, ...]]:
    """Split off a `; keywords: a, b` part; a bare sentence without one yields its phrases."""
    found = KEYWORDS_PART.search(text)
    if found:
        words = KEYWORD_SEPARATOR.split(found.group("words"))
        keywords = tuple(dict.fromkeys(word.strip() for word in words if word.strip()))
        return text[: found.start()].strip(), keywords
    return text, phrases(text) if bare else ()


def _checked(title: str, description: str, keywords: tuple[str, ...]) -> TopicSpec:
    if not description:
        raise TopicError("bot.refusal.topic_empty")
    too_long = any(len(word) > MAX_TITLE for word in keywords)
    if len(title) > MAX_TITLE or len(description) > MAX_DESCRIPTION or len(keywords) > MAX_KEYWORDS:
        too_long = True
    if too_long:
        raise TopicError(
            "bot.refusal.topic_too_long",
            title=MAX_TITLE,
            description=MAX_DESCRIPTION,
            keywords=MAX_KEYWORDS,
        )
    return TopicSpec(title=title, description=description, keywords=keywords)


def _short_title(sentence: str) -> str:
    """A name for a topic written as one sentence: the sentence if short, else its start."""
    text = sentence.rstrip(".!? \u3002\uff01\uff1f")
    latin = not needs_english(text)
    limit = SHORT_TITLE_LATIN if latin else SHORT_TITLE_OTHER
    if len(text) > limit:
        first = CLAUSE.split(text, maxsplit=1)[0].strip()
        text = first if 0 < len(first) <= limit else _cut_words(text, limit, latin=latin)
    return text[:1].upper() + text[1:]


def _cut_words(text: str, limit: int, *, latin: bool) -> str:
    if not latin:
        return text[:limit] + "…"
    kept = ""
    for word in text.split():
        if len(kept) + len(word) + 1 > limit:
            break
        kept = f"{kept} {word}".strip()
    return (kept or text[:limit]) + "…"


def phrases(sentence: str) -> tuple[str, ...]:
    """The phrases of a sentence, split at punctuation and joining words; () when it is one."""
    found = []
    for clause in CLAUSE.split(sentence):
        for phrase in JOINING_WORDS.split(clause):
            phrase = " ".join(phrase.split())
            if len(phrase) >= (2 if needs_english(phrase) else 3):
                found.append(phrase)
    unique = tuple(dict.fromkeys(found))[:MAX_KEYWORDS]
    return () if unique == (" ".join(sentence.split()),) else unique


def _name_colon(text: str) -> int | None:
    """Where the first colon that ends a topic's name is: not in a URL or a link's `(...)`."""
    depth = 0  # how deep inside a Markdown link's `](...)` this character is
    for index, char in enumerate(text):
        if char == "(" and (depth or text[index - 1 : index] == "]"):
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif char in NAME_COLONS and not depth and not _is_url_colon(text, index):
            return index
    return None


def _is_url_colon(text: str, index: int) -> bool:
    """Whether the colon at `index` follows a URL scheme (`scheme://`, `javascript:x`)."""
    scheme = SCHEME_BEFORE.search(text, 0, index)
    if text[index] != ":" or scheme is None:
        return False
    after = text[index + 1 : index + 3]
    if after == "//":
        return True
    return scheme.group().lower() in BARE_SCHEMES and after[:1] not in {"", " ", "\n", "\t"}


def slug(text: str) -> str:
    """Turn a title into a topic key: lower-case ASCII words joined by `_`, led by a letter.

    A slug over 40 characters drops its small words (`with`, `of`), then its last words.
    """
    words = re.findall(r"[a-z0-9]+", text.lower())
    if len("_".join(words)) > MAX_KEY:
        words = [word for word in words if word not in SMALL_WORDS] or words
    key = ""
    for word in words:
        joined = f"{key}_{word}" if key else word
        if len(joined) > MAX_KEY:
            break
        key = joined
    if not key and words:
        key = words[0][:MAX_KEY]
    if key and not key[0].isalpha():
        key = f"t_{key}"
    return key
