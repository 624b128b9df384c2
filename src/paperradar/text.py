"""Pure text helpers: cleaning input text, the text a paper is embedded as, hashes, cutting."""

from __future__ import annotations

import hashlib
import re
from functools import cache

from pylatexenc.latex2text import LatexNodes2Text

# A terminal escape sequence (ESC [ ... final byte) goes whole, not just its ESC.
ANSI_SEQUENCE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
# Lone surrogates (no UTF-8 form), C0 controls but tab and newline, DEL and C1 controls,
# bidi embeddings, overrides, isolates and marks (they reorder what a reader sees), the
# byte-order mark, and the noncharacters U+FFFE/U+FFFF (not allowed in XML).
UNSAFE_CHARACTERS = re.compile(
    r"[\ud800-\udfff\x00-\x08\x0b-\x1f\x7f-\x9f"
    r"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\ufffe\uffff]"
)


def clean_text(value: str) -> str:
    """Drop what no stored or shown text may hold: lone surrogates, controls, bidi overrides."""
    return UNSAFE_CHARACTERS.sub("", ANSI_SEQUENCE.sub("", value))


def paper_text(title: str, abstract: str) -> str:
    """Return the text a paper is embedded as: its title, then its abstract."""
    return f"{title.strip()}. {abstract.strip()}"


def text_sha(text: str) -> str:
    """Return the SHA-256 hex digest of a text, the key of everything derived from it."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cut(value: str, limit: int) -> str:
    """Shorten text to at most `limit` characters, marking the cut with an ellipsis."""
    text = " ".join(value.split())
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"


# The LaTeX a title or abstract carries: a `$…$` span tight against its dollars (`$309$`,
# `$p < 0.001$`; in `$5 and $10` the dollars are money), an accent, a macro with its braced
# arguments (`\textbf{88.37}`) or an escaped character (`\%`). Only these are converted.
LATEX = re.compile(
    r"(?<!\\)\$[^$\s](?:[^$]*?[^$\s\\])?\$"  # $…$
    r"|\\[\"'`^~=.](?:\{[^{}]*\}|[A-Za-z])"  # an accent: \"o, \'{e}
    r"|\\[A-Za-z]+\*?(?:\{[^{}$]*\})*"  # a macro: \textbf{88.37}, \alpha
    r"|\\[%$&#_{}]"  # an escaped character: \%, \$
)


@cache
def _latex_converter() -> LatexNodes2Text:
    return LatexNodes2Text(math_mode="text", strict_latex_spaces=False)


def _latex_piece(found: re.Match[str]) -> str:
    try:
        converted: str = _latex_converter().latex_to_text(found.group())
    except Exception:  # pylatexenc raises assorted errors on malformed input
        return found.group()
    return converted.replace("\xa0", " ").strip() or found.group()


def latex_to_unicode(value: str) -> str:
    """Show the LaTeX of a title or abstract as Unicode: `$\\mathbf{Y}$` → bold Y, `$\\leq$` → ≤.

    Each LaTeX piece is converted alone (pylatexenc); text around it, and text with none, is
    left exactly as it was, so `20%`, `Q&A` and `$5` mean what they said.
    """
    return LATEX.sub(_latex_piece, value) if "$" in value or "\\" in value else value
