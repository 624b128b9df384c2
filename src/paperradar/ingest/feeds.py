"""Parse arXiv listings (RSS, API Atom, JSONL) into Announcement values: pure, no I/O.

Every text an Announcement holds is cleaned here, once, for every format: lone surrogates,
control characters and bidi overrides never reach the database, the embedder or a channel.
"""

from __future__ import annotations

import json
import re
import xml.sax
from collections.abc import Collection, Iterable
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from xml.etree import ElementTree

import feedparser

from paperradar.errors import FeedError
from paperradar.ingest.announcement import Announcement, Feed
from paperradar.ingest.raw import (
    MAX_FEED_BYTES,
    MAX_INFLATED_BYTES,
    check_size,
    gunzip,
    xml_safe,
)
from paperradar.settings import ArxivSettings
from paperradar.store.states import AnnounceType
from paperradar.text import clean_text

HOME_CATEGORIES = tuple(ArxivSettings().categories)
JSONL_FIELDS = ("id", "title", "abstract", "authors", "categories", "date")
ATOM = "http://www.w3.org/2005/Atom"
ARXIV = "http://arxiv.org/schemas/atom"

_ID = r"(?P<id>\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v(?P<version>\d+))?"
_ID_AT_END = re.compile(rf"(?:^|abs/|arXiv\.org:|arXiv:){_ID}$", re.IGNORECASE)
_RSS_PREFIX = re.compile(rf"^arXiv:{_ID}\s+Announce Type:\s*\S+\s+Abstract:\s*", re.IGNORECASE)


def collapse(text: str) -> str:
    """Clean a text (see `clean_text`), collapse its whitespace runs to one space, strip it."""
    return " ".join(clean_text(text).split())


def split_id(value: str, *, where: str) -> tuple[str, int]:
    """Split an arXiv id, URL or OAI identifier into (version-stripped id, version)."""
    match = _ID_AT_END.search(value.strip())
    if match is None:
        raise FeedError(f"{where}: no arXiv id in {value!r}")
    return match["id"], int(match["version"] or 1)


def _optional(value: object) -> str | None:
    return (collapse(value) or None) if isinstance(value, str) else None


def _required(value: object, field: str, where: str) -> str:
    # A title that is literally "0" is a title: only absence or blankness counts as missing.
    if value is not None and not isinstance(value, str):
        raise FeedError(f"{where}: {field} must be text, not {type(value).__name__}")
    text = collapse(value) if isinstance(value, str) else ""
    if not text:
        raise FeedError(f"{where}: missing {field}")
    return text


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(text for value in values if value and (text := collapse(value))))


def _rfc822_day(value: object, where: str) -> date | None:
    """Return the calendar day of an RSS date in its own offset (arXiv writes -0400/-0500)."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return parsedate_to_datetime(value).date()
    except (TypeError, ValueError) as error:
        raise FeedError(f"{where}: unreadable date {value!r}") from error


def _rss_item(entry: Any, channel_day: date | None, source: str) -> Announcement:
    where = f"{source}: item {collapse(entry.get('id') or entry.get('link') or '?')[:200]}"
    summary = collapse(entry.get("summary") or "")
    prefix = _RSS_PREFIX.match(summary)
    arxiv_id, version = split_id(entry.get("id") or entry.get("link") or "", where=where)
    if prefix and prefix["version"]:
        version = int(prefix["version"])
    raw_type = (entry.get("arxiv_announce_type") or "").strip()
    try:
        announce_type = AnnounceType(raw_type)
    except ValueError as error:
        raise FeedError(
            f"{where}: announce type {raw_type!r} is not one of new, cross, replace, "
            "replace-cross (only the current rss.arxiv.org format is supported)"
        ) from error
    day = _rfc822_day(entry.get("published"), where) or channel_day
    if day is None:
        raise FeedError(f"{where}: no pubDate on the item or the channel")
    return Announcement(
        arxiv_id=arxiv_id,
        version=version,
        title=_required(entry.get("title"), "title", where),
        abstract=summary[prefix.end() :] if prefix else summary,
        authors=_unique((entry.get("author") or "").split(",")),
        categories=_unique(tag.get("term") or "" for tag in entry.get("tags") or ()),
        announce_type=announce_type,
        announced_on=day,
        comment=_optional(entry.get("arxiv_comment")),
        doi=_optional(entry.get("arxiv_doi")),
        journal_ref=_optional(
            entry.get("arxiv_journal_reference") or entry.get("arxiv_journal_ref")
        ),
    )


def _atom_affiliations(data: bytes) -> dict[str, tuple[str, ...]]:
    """Map each Atom entry id to its authors' <arxiv:affiliation>s, in author order.

    feedparser keeps only the last affiliation of an entry, so they are read from the XML here.
    """
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError:
        return {}
    found: dict[str, tuple[str, ...]] = {}
    for entry in root.iter(f"{{{ATOM}}}entry"):
        names = entry.iterfind(f"{{{ATOM}}}author/{{{ARXIV}}}affiliation")
        affiliations = _unique(collapse(name.text or "") for name in names)
        if affiliations:
            found[(entry.findtext(f"{{{ATOM}}}id") or "").strip()] = affiliations
    return found


def _atom_entry(entry: Any, source: str, affiliations: tuple[str, ...] = ()) -> Announcement:
    entry_id = entry.get("id") or ""
    if "/api/errors" in entry_id:
        raise FeedError(f"{source}: arXiv API error: {collapse(entry.get('summary') or entry_id)}")
    where = f"{source}: entry {collapse(entry_id or '?')[:200]}"
    arxiv_id, version = split_id(entry_id, where=where)
    published = entry.get("published")
    try:
        day = datetime.fromisoformat(published.replace("Z", "+00:00")).date()
    except (AttributeError, ValueError) as error:
        raise FeedError(f"{where}: missing or unreadable <published> {published!r}") from error
    primary = (entry.get("arxiv_primary_category") or {}).get("term") or ""
    tags = [tag.get("term") or "" for tag in entry.get("tags") or ()]
    return Announcement(
        arxiv_id=arxiv_id,
        version=version,
        title=_required(entry.get("title"), "title", where),
        abstract=_required(entry.get("summary"), "abstract", where),
        authors=_unique(author.get("name") or "" for author in entry.get("authors") or ()),
        categories=_unique([primary, *tags]),
        announce_type=AnnounceType.NEW if version == 1 else AnnounceType.REPLACE,
        announced_on=day,
        comment=_optional(entry.get("arxiv_comment")),
        doi=_optional(entry.get("arxiv_doi")),
        journal_ref=_optional(entry.get("arxiv_journal_ref")),
        affiliations=affiliations,
    )


def _parse_xml(data: bytes, source: str) -> Feed:
    data = xml_safe(data)
    parsed = feedparser.parse(data, sanitize_html=False, resolve_relative_uris=False)
    problem = parsed.get("bozo_exception")
    # A truncated download still yields its first items, so any XML error rejects the feed.
    if isinstance(problem, xml.sax.SAXException) or (parsed.bozo and not parsed.entries):
        raise FeedError(f"{source}: not well-formed XML ({problem})")
    version = parsed.get("version") or ""
    if version.startswith("rss"):
        channel_day = _rfc822_day(parsed.feed.get("published"), source)
        items = [_rss_item(entry, channel_day, source) for entry in parsed.entries]
        return _feed(items, source, announced_on=channel_day)
    if version.startswith("atom"):
        affiliations = _atom_affiliations(data)
        entries = [
            _atom_entry(entry, source, affiliations.get((entry.get("id") or "").strip(), ()))
            for entry in parsed.entries
        ]
        return _feed(entries, source)
    raise FeedError(f"{source}: neither an arXiv RSS feed, an arXiv API response nor JSONL")


def _jsonl_row(row: object, where: str, home_categories: Collection[str]) -> Announcement:
    if not isinstance(row, dict):
        raise FeedError(f"{where}: expected a JSON object, got {type(row).__name__}")
    missing = [field for field in JSONL_FIELDS if row.get(field) is None]
    if missing:
        raise FeedError(f"{where}: missing field(s) {', '.join(missing)}")
    authors, categories = row["authors"], row["categories"]
    if not isinstance(authors, list) or not all(isinstance(name, str) for name in authors):
        raise FeedError(f"{where}: authors must be a list of strings")
    if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
        raise FeedError(f"{where}: categories must be a list of strings")
    if not categories:
        raise FeedError(f"{where}: categories is empty")
    try:
        day = date.fromisoformat(str(row["date"]))
    except ValueError as error:
        raise FeedError(f"{where}: date {row['date']!r} is not YYYY-MM-DD") from error
    arxiv_id, version = split_id(str(row["id"]), where=where)
    return Announcement(
        arxiv_id=arxiv_id,
        version=version,
        title=_required(row["title"], "title", where),
        abstract=collapse(_required(row["abstract"], "abstract", where)),
        authors=_unique(authors),
        categories=_unique(categories),
        announce_type=(
            AnnounceType.NEW if categories[0] in home_categories else AnnounceType.CROSS
        ),
        announced_on=day,
        comment=_optional(row.get("comment")),
        doi=_optional(row.get("doi")),
        journal_ref=_optional(row.get("journal_ref")),
    )


def _parse_jsonl(data: bytes, source: str, home_categories: Collection[str]) -> Feed:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FeedError(f"{source}: not UTF-8 ({error})") from error
    announcements = []
    # Split on newlines only: JSON strings may hold U+2028, which str.splitlines() splits on.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{source}: line {number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise FeedError(
                f"{where}: invalid JSON ({error.msg} at column {error.colno})"
            ) from error
        announcements.append(_jsonl_row(row, where, home_categories))
    return _feed(announcements, source)


def _feed(
    announcements: list[Announcement], source: str, *, announced_on: date | None = None
) -> Feed:
    unique: dict[str, Announcement] = {}
    for announcement in announcements:
        unique.setdefault(announcement.arxiv_id, announcement)
    if announced_on is None and unique:
        announced_on = max(announcement.announced_on for announcement in unique.values())
    return Feed(announced_on=announced_on, announcements=tuple(unique.values()), source=source)


def parse_feed(
    data: bytes,
    *,
    source: str = "feed",
    home_categories: Collection[str] = HOME_CATEGORIES,
    max_bytes: int = MAX_FEED_BYTES,
    max_inflated_bytes: int = MAX_INFLATED_BYTES,
) -> Feed:
    """Parse arXiv RSS, arXiv API Atom, or JSONL (plain or gzip) bytes into a Feed.

    Args:
        data: the raw bytes, format sniffed from their first bytes.
        source: names the input in error messages and `Feed.source`.
        home_categories: for JSONL, a paper whose primary category is one of these is `new`,
            any other is `cross`.
        max_bytes: the most bytes `data` may hold.
        max_inflated_bytes: the most bytes gzip `data` may inflate to.
    """
    check_size(data, source=source, limit=max_bytes)
    if data[:2] == b"\x1f\x8b":
        data = gunzip(data, source=source, limit=max_inflated_bytes)
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if not head:
        raise FeedError(f"{source}: empty feed")
    if head == b"{":
        return _parse_jsonl(data, source, home_categories)
    return _parse_xml(data, source)
