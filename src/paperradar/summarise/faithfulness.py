"""Faithfulness guard: every number and name a summary states must appear in the title or abstract.

The LLM's reply is data: a summary holds no link the title and abstract do not hold, and no
instruction to its reader (visit, click, claim a prize, ignore the instructions: what a prompt
injection inside an abstract makes a model write), wherever it came from.

Pure functions on text. A "name" is a token that looks like a model, dataset, benchmark or
method name (letters with digits, such as GPT-4o, Qwen2.5, GSM8K, or two capitals or more,
such as MMLU, LongBench, R-WoM). A number is compared by value, so `32K`, `32k` and `3.2万`
agree, as do `1,000` and `1000`, `25.3%` and `25.3 \\%`, `eleven` and `11`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise

from paperradar.summarise.injections import (
    extract_instructions,
    extract_links,
    is_linked,
    source_links,
)

# A dot joins a name only before a digit (Qwen2.5), so "LLMs.We" is two tokens; a slash
# separates names (PRM/ORM).
NAME = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9]*(?:[-_+@][A-Za-z0-9]+|\.\d[A-Za-z0-9]*)*(?![A-Za-z0-9])"
)
NUMBER = re.compile(
    r"(?<![A-Za-z0-9.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?"
    r"\s*(百万|万|亿|千|thousand|million|billion|trillion|[kKmMbBtT](?![A-Za-z]))?%?"
)
# In the source every digit run counts, names included: "Qwen2.5-7B" states 2.5 and 7B.
SOURCE_NUMBER = re.compile(
    r"(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?"
    r"\s*(百万|万|亿|千|thousand|million|billion|trillion|[kKmMbBtT](?![A-Za-z]))?"
)
# Plain words hyphenated to a name ("RL-free", "non-LLM") are not part of the name.
WORD_AFFIXES = re.compile(r"^(?:[a-z]+-)+|(?:-[a-z]+)+$")
# "1. ..." or "(2)" opening a list item is layout, not a claim.
LIST_MARKER = re.compile(r"(?:^|(?<=[\n;:。!?]))\s*\d{1,2}[.、)](?!\d)|[(]\d{1,2}[)]")
ROMAN = re.compile(r"^[IVXL]+$")
# LaTeX spellings of the same characters: 1{,}000, 1\,000, 40\%, \times.
LATEX = (
    (re.compile(r"(\d)\{,\}(\d)"), r"\1,\2"),
    (re.compile(r"(\d)\\[,;!]\s?(\d)"), r"\1\2"),
    (re.compile(r"\\%"), "%"),
)
CHUNK_SPLIT = re.compile(r"[\s,;:()\[\]{}\"'“”‘’<>|=]+")  # noqa: RUF001 - curly quotes split words
PART_SPLIT = re.compile(r"[-_./+@]")
MULTIPLIERS = {
    "k": 1e3,
    "thousand": 1e3,
    "千": 1e3,
    "万": 1e4,
    "m": 1e6,
    "million": 1e6,
    "百万": 1e6,
    "亿": 1e8,
    "b": 1e9,
    "billion": 1e9,
    "t": 1e12,
    "trillion": 1e12,
}
SMALL_NUMBERS = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
)
NUMBER_WORDS: dict[str, float] = {word: value for value, word in enumerate(SMALL_NUMBERS)} | {
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
    "thousand": 1000,
    "million": 1_000_000,
    "billion": 1_000_000_000,
    "dozen": 12,
    "twice": 2,
    "double": 2,
    "triple": 3,
    "half": 0.5,
    "tenfold": 10,
}
NUMBER_WORD = re.compile(r"(?<![A-Za-z])(" + "|".join(NUMBER_WORDS) + r")(?:fold)?(?![a-z])", re.I)


@dataclass(frozen=True)
class Violation:
    """A number, name or link of a summary field the source lacks, or an instruction in it."""

    field: str
    kind: str  # "number" | "name" | "link" | "instruction"
    token: str

    def describe(self) -> str:
        """Say what is wrong, as the repair request and the stored error show it."""
        if self.kind == "instruction":
            return (
                f"{self.field}: {self.token!r} tells the reader what to do; a summary only "
                "reports the paper, so leave it out"
            )
        return f"{self.field}: {self.kind} {self.token!r} is not in the title or abstract"


def normalise(text: str) -> str:
    """Fold full-width characters and LaTeX spellings of digits and percent signs."""
    text = unicodedata.normalize("NFKC", text)
    for pattern, replacement in LATEX:
        text = pattern.sub(replacement, text)
    return text


def _squash(token: str) -> str:
    return re.sub(r"[^a-z0-9]", "", token.lower())


def is_name(token: str) -> bool:
    """Whether a token looks like a model, dataset, benchmark or method name."""
    has_digit = any(char.isdigit() for char in token)
    capitals = sum(char.isupper() for char in token)
    return (has_digit or capitals >= 2) and not ROMAN.match(token)


def extract_names(text: str) -> list[str]:
    """Return the name-like tokens of a text, in order."""
    return [token for token in NAME.findall(normalise(text)) if is_name(token)]


def _values(digits: str, decimals: str | None, suffix: str | None) -> frozenset[float]:
    value = float(digits.replace(",", "") + (decimals or ""))
    scale = MULTIPLIERS.get((suffix or "").lower())
    return frozenset(round(v, 6) for v in (value, value * scale if scale else value))


def extract_numbers(text: str) -> list[tuple[str, frozenset[float]]]:
    """Return each number outside names as (as written, the values it may stand for)."""
    text = NAME.sub(lambda m: " " if is_name(m.group()) else m.group(), normalise(text))
    text = LIST_MARKER.sub(" ", text)
    return [
        (match.group().strip(), _values(match[1], match[2], match[3]))
        for match in NUMBER.finditer(text)
    ]


def _source_values(source: str) -> set[float]:
    values = {
        value
        for match in SOURCE_NUMBER.finditer(normalise(source))
        for value in _values(match[1], match[2], match[3])
    }
    for match in NUMBER_WORD.finditer(source):
        values.add(float(NUMBER_WORDS[match[1].lower()]))
    return values


def _source_names(source: str, known_terms: Iterable[str]) -> set[str]:
    """Every squashed form a name in the source may take: whole, by parts, words joined."""
    chunks = [chunk for chunk in CHUNK_SPLIT.split(normalise(source)) if chunk]
    forms = {_squash(term) for term in known_terms}
    for chunk, following in pairwise([*chunks, ""]):
        parts = [_squash(part) for part in PART_SPLIT.split(chunk)]
        spans = ((i, j) for i in range(len(parts)) for j in range(i + 1, len(parts) + 1))
        forms.update("".join(parts[i:j]) for i, j in spans)
        forms.add(_squash(chunk + following))
    forms |= {form[:-1] for form in forms if form.endswith("s")}
    forms.discard("")
    return forms


def _is_known(token: str, names: set[str]) -> bool:
    squashed = _squash(token)
    return bool(squashed) and (squashed in names or squashed.removesuffix("s") in names)


def find_violations(
    fields: Mapping[str, str], *, source: str, known_terms: Collection[str] = ()
) -> list[Violation]:
    """Return each number, name and link of the fields absent from the source, and each instruction.

    Args:
        fields: summary text by field path (e.g. "tldr_zh", "why_by_topic.x.en").
        source: the paper's title and abstract.
        known_terms: the field's common acronyms (LLM, RLHF), allowed without a mention.
    """
    values = _source_values(source)
    names = _source_names(source, known_terms)
    links = source_links(normalise(source))
    violations: list[Violation] = []
    for field, text in fields.items():
        seen: set[str] = set()
        for phrase in dict.fromkeys(extract_instructions(normalise(text))):
            violations.append(Violation(field, "instruction", phrase))
        for link in dict.fromkeys(extract_links(normalise(text))):
            if not is_linked(link, links):
                violations.append(Violation(field, "link", link))
        for token in extract_names(text):
            if _is_known(token, names) or _is_known(WORD_AFFIXES.sub("", token), names):
                continue
            if token not in seen:
                violations.append(Violation(field, "name", token))
            seen.add(token)
        for written, options in extract_numbers(text):
            if not options & values and written not in seen:
                violations.append(Violation(field, "number", written))
                seen.add(written)
    return violations
