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

# Links: a scheme or "www.", or a bare domain under a common or reserved top-level domain
# (not .py, .md or .pt, which name files far more often than sites).
URL_CHARACTER = r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]"
TOP_LEVEL_DOMAINS = (
    "com|net|org|edu|gov|info|biz|io|ai|co|me|app|dev|xyz|top|site|online|club|shop|link|"
    "click|live|win|vip|icu|buzz|cn|ru|uk|de|fr|jp|us|cc|tk|ly|gl|to|example|test|invalid|local"
)
DOMAIN = rf"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+(?:{TOP_LEVEL_DOMAINS})(?![A-Za-z0-9-])"
LINK_PATTERN = (
    rf"(?:https?://|www\.){URL_CHARACTER}+|(?<![A-Za-z0-9._-]){DOMAIN}(?:/{URL_CHARACTER}*)?"
)
LINK = re.compile(LINK_PATTERN, re.IGNORECASE)
LINK_TRAILER = ".,;:!?)]}'\""
LINK_PREFIX = re.compile(r"^(?:https?://)?(?:www\.)?", re.IGNORECASE)
# A link broken across lines in an abstract: a line break after a slash or hyphen.
LINK_BREAK = re.compile(r"(?<=[/_-])[ \t]*\n\s*")
# What a summary never says: it reports the paper and tells no one to do anything. Each is a
# phrase aimed at the reader (or at the model) that scientific prose does not use; bare verbs
# are not enough ("agents visit states", "点击率", "内存访问" are science).
INSTRUCTION = re.compile(
    "|".join(
        (
            rf"\b(?:please\s+)?(?:visit|go\s+to|navigate\s+to|head\s+(?:over\s+)?to|click(?:\s+on)?"
            rf"|log\s*in\s+at|sign\s+up\s+at|register\s+at)\s+(?:{LINK_PATTERN})",
            r"\bvisit\s+(?:us|our|my)\b",
            r"\bclick\s+(?:here|below|(?:on\s+)?(?:the|this)\s+(?:link|button|url))\b",
            r"\bclaim\s+(?:your|the|a|my|this)?\s*(?:free\s+)?"
            r"(?:prizes?|rewards?|gifts?|bonus(?:es)?|vouchers?|coupons?|cash)\b",
            r"\byou(?:'ve|\s+have)?\s+(?:just\s+)?won\b",
            r"\b(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+)?(?:of\s+)?"
            r"(?:the\s+|your\s+|my\s+)?(?:previous|prior|above|preceding|earlier|system|original)"
            r"\s+(?:instructions?|prompts?|messages?|rules?|directions?|commands?)\b",
            # "ignore the above and ..." but not "ignore the above constraints"
            r"\b(?:ignore|disregard)\s+(?:all\s+of\s+|everything\s+)?the\s+above\b"
            r"(?!-|\s+(?!and\b|or\b|then\b)[a-z])",
            r"\b(?:sign\s+up|register|subscribe|act|call)\s+(?:now|today)\b",
            r"\bscan\s+(?:the|this)\s+qr\s+code\b",
            r"(?:请|立即|立刻|马上|赶快|赶紧|快来|速来|欢迎)\s*"
            r"(?:点击|访问|领取|扫码|扫描|登录|登陆|注册|前往|联系|关注|转发|下载)",
            r"(?:点击|访问|前往|打开|登录)\s*"
            rf"(?:此处|这里|链接|下方|以下|下面|进入|网址|(?:{LINK_PATTERN}))",
            r"领取\s*(?:您的|你的)?\s*(?:奖品|奖励|奖金|红包|礼品|礼物|优惠券?|现金|大奖)",
            r"恭喜\s*(?:您|你)|(?:您|你)\s*(?:已经?)?\s*中奖",
            r"(?:忽略|无视|忘记|忘掉)\s*(?:掉)?\s*(?:以上|上述|上面|之前|先前|前面|此前|前述)\s*(?:的)?\s*"
            r"(?:所有|全部|一切)?\s*(?:的)?\s*(?:指令|指示|提示词?|说明|要求|规则|命令)",
            r"扫码|扫描(?:下方|此|该|以下)?二维码",
        )
    ),
    re.IGNORECASE,
)


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


def extract_links(text: str) -> list[str]:
    """Return the links (URLs, www. addresses, bare domains) of a text, as written."""
    return [match.group().rstrip(LINK_TRAILER) for match in LINK.finditer(normalise(text))]


def extract_instructions(text: str) -> list[str]:
    """Return the phrases of a text that tell its reader what to do (visit, click, 领取…)."""
    return [match.group() for match in INSTRUCTION.finditer(normalise(text))]


def _link_key(link: str) -> str:
    return LINK_PREFIX.sub("", link.lower()).rstrip("/")


def _source_links(source: str) -> set[str]:
    text = normalise(source)
    return {
        _link_key(link) for part in (text, LINK_BREAK.sub("", text)) for link in extract_links(part)
    }


def _is_linked(link: str, links: set[str]) -> bool:
    """Whether a link is one of the source's, or its start up to a path or query boundary."""
    key = _link_key(link)
    return any(
        known == key or (known.startswith(key) and known[len(key)] in "/?#") for known in links
    )


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
    links = _source_links(source)
    violations: list[Violation] = []
    for field, text in fields.items():
        seen: set[str] = set()
        for phrase in dict.fromkeys(extract_instructions(text)):
            violations.append(Violation(field, "instruction", phrase))
        for link in dict.fromkeys(extract_links(text)):
            if not _is_linked(link, links):
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
