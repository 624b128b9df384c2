"""Raw feed bytes made safe to parse: size limits, bounded gzip inflation, characters XML
forbids. Pure: bytes in, bytes out, or a FeedError naming the limit."""

from __future__ import annotations

import gzip
import io
import re
import zlib

from paperradar.errors import FeedError
from paperradar.text import ANSI_SEQUENCE

# The most bytes a feed may hold, as read or downloaded (a real daily feed is under 5 MB) ...
MAX_FEED_BYTES = 100 * 1024 * 1024
# ... and once gzip input is inflated (a gzip bomb of a few MB inflates to gigabytes).
MAX_INFLATED_BYTES = 500 * 1024 * 1024
# XML 1.0 forbids most control characters, raw or as character references: one ESC in one
# title would make the whole feed unreadable, so they are dropped before parsing (a terminal
# escape sequence whole, as `clean_text` drops it).
_XML_CONTROL_BYTES = re.compile(ANSI_SEQUENCE.pattern.encode() + rb"|[\x00-\x08\x0b\x0c\x0e-\x1f]")
_XML_CHARACTER_REFERENCE = re.compile(rb"&#(x[0-9a-fA-F]+|[0-9]+);")


def in_words(size: int) -> str:
    """Say a byte count as a size limit is named in errors: "100 MB", "4,096 bytes"."""
    return f"{size / 1024 / 1024:g} MB" if size >= 1024 * 1024 else f"{size:,} bytes"


def check_size(data: bytes, *, source: str, limit: int = MAX_FEED_BYTES) -> None:
    """Refuse more than `limit` bytes of feed."""
    if len(data) > limit:
        raise FeedError(
            f"{source}: {len(data):,} bytes is more than {in_words(limit)}, the limit "
            "of a feed (paperradar.ingest.raw.MAX_FEED_BYTES)"
        )


def _is_xml_character(code: int) -> bool:
    """Whether XML 1.0 allows a character (by its code point) in a document."""
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


def xml_safe(data: bytes) -> bytes:
    """Drop the characters XML 1.0 forbids, raw or as `&#...;` references, from UTF-8 XML."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16, where a zero byte is no character
        return data

    def allowed(match: re.Match[bytes]) -> bytes:
        digits = match[1]
        code = int(digits[1:], 16) if digits.startswith(b"x") else int(digits)
        return match[0] if _is_xml_character(code) else b""

    return _XML_CHARACTER_REFERENCE.sub(allowed, _XML_CONTROL_BYTES.sub(b"", data))


def gunzip(data: bytes, *, source: str, limit: int = MAX_INFLATED_BYTES) -> bytes:
    """Inflate gzip bytes, a bounded stream: more than `limit` bytes out is a FeedError."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            inflated = stream.read(limit + 1)
    except (OSError, EOFError, zlib.error) as error:
        raise FeedError(f"{source}: broken gzip data ({error})") from error
    if len(inflated) > limit:
        raise FeedError(
            f"{source}: gzip data inflates to more than {in_words(limit)}, the limit "
            "(paperradar.ingest.raw.MAX_INFLATED_BYTES); is it a gzip bomb?"
        )
    return inflated
