"""What prompt injections leave in a summary: links and instructions aimed at the reader.

A summary reports the paper: a link the abstract does not give, or a phrase telling the
reader to visit, click or claim something, is rejected like an invented number.
"""

from __future__ import annotations

import re

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


def extract_links(text: str) -> list[str]:
    """Return the links (URLs, www. addresses, bare domains) of a normalised text."""
    return [match.group().rstrip(LINK_TRAILER) for match in LINK.finditer(text)]


def extract_instructions(text: str) -> list[str]:
    """Return the phrases of a normalised text telling the reader to act (visit, 领取…)."""
    return [match.group() for match in INSTRUCTION.finditer(text)]


def _link_key(link: str) -> str:
    return LINK_PREFIX.sub("", link.lower()).rstrip("/")


def source_links(text: str) -> set[str]:
    """Return the links of a normalised source text, lines broken inside a link joined."""
    return {
        _link_key(link) for part in (text, LINK_BREAK.sub("", text)) for link in extract_links(part)
    }


def is_linked(link: str, links: set[str]) -> bool:
    """Whether a link is one of the source's, or its start up to a path or query boundary."""
    key = _link_key(link)
    return any(
        known == key or (known.startswith(key) and known[len(key)] in "/?#") for known in links
    )
