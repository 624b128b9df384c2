"""Pure text helpers: cleaning input text, the text a paper is embedded as, hashes, cutting."""

from __future__ import annotations

import hashlib
import re

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
