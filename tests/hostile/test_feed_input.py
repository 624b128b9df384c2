"""Hostile feed input: every text an Announcement holds comes out clean, or the feed is refused.

Each hostile input is either cleaned (no lone surrogate, control character or bidi override is
left, so the text stores on SQLite and PostgreSQL, encodes as UTF-8 for the embedder and is
valid XML for the web archive's Atom feeds) or refused with a one-line FeedError that names
the input and, for a size limit, the limit.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from werkzeug import Response

from paperradar.embed.embeddings import Embedder
from paperradar.errors import FeedError
from paperradar.ingest import fetch
from paperradar.ingest.announcement import Announcement
from paperradar.ingest.feeds import parse_feed
from paperradar.ingest.papers import store_announcements
from paperradar.ingest.raw import MAX_FEED_BYTES
from paperradar.settings import ArxivSettings, Settings
from paperradar.store.records import Paper
from paperradar.text import clean_text, paper_text

DAY = date(2025, 10, 15)
SOURCE = "hostile-feed"
# What no cleaned text may hold: lone surrogates, controls but tab/newline, bidi controls.
UNSAFE = re.compile(
    r"[\ud800-\udfff\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
    r"\ufeff\ufffe\uffff]"
)


# ---- building hostile inputs ----------------------------------------------------------------


def jsonl_row(number: int, **changes: Any) -> dict[str, Any]:
    """A valid JSONL row (paper 2510.1xxxx), with some fields replaced."""
    row: dict[str, Any] = {
        "id": f"2510.{10000 + number}v1",
        "title": "A Plain Title",
        "abstract": "We study a plain problem.",
        "authors": ["Ada Lovelace", "Alan Turing"],
        "categories": ["cs.CL", "cs.AI"],
        "date": DAY.isoformat(),
        "comment": "9 pages",
        "journal_ref": None,
        "doi": None,
    }
    return {**row, **changes}


def jsonl(*rows: object) -> bytes:
    """JSONL bytes as json.dumps writes them (a lone surrogate becomes a \\ud800 escape)."""
    return "\n".join(json.dumps(row) for row in rows).encode()


RSS_ITEM = """<item>
  <title>{title}</title>
  <link>https://arxiv.org/abs/{id}</link>
  <description>arXiv:{id}v1 Announce Type: new
Abstract: {abstract}</description>
  <guid isPermaLink="false">oai:arXiv.org:{id}v1</guid>
  <category>cs.CL</category>
  <pubDate>Wed, 15 Oct 2025 00:00:00 -0400</pubDate>
  <arxiv:announce_type>new</arxiv:announce_type>
  <dc:creator>{authors}</dc:creator>
</item>"""


def rss(
    number: int, *, title: str, abstract: str = "Plain.", authors: str = "Ada Lovelace"
) -> bytes:
    """A one-item arXiv RSS feed whose fields are inserted as written (entities and all)."""
    item = RSS_ITEM.format(
        id=f"2510.{10000 + number}", title=title, abstract=abstract, authors=authors
    )
    return (
        '<rss xmlns:arxiv="http://arxiv.org/schemas/atom" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" version="2.0"><channel>'
        "<title>cs.CL updates on arXiv.org</title><link>http://rss.arxiv.org/rss/cs.CL</link>"
        "<description>cs.CL</description>"
        "<pubDate>Wed, 15 Oct 2025 00:00:00 -0400</pubDate>"
        f"{item}</channel></rss>"
    ).encode("utf-8", "surrogatepass")


def atom(
    number: int,
    *,
    title: str,
    summary: str = "Plain.",
    author: str = "Ada Lovelace",
    affiliation: str = "MIT",
) -> bytes:
    """A one-entry arXiv API Atom response whose fields are inserted as written."""
    return (
        "<?xml version='1.0' encoding='UTF-8'?>"
        '<feed xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">'
        "<id>https://arxiv.org/api/x</id><title>q</title><updated>2025-10-15T00:00:00Z</updated>"
        f"<entry><id>http://arxiv.org/abs/2510.{10000 + number}v1</id><title>{title}</title>"
        f"<updated>2025-10-14T16:00:00Z</updated><summary>{summary}</summary>"
        '<category term="cs.CL" scheme="http://arxiv.org/schemas/atom"/>'
        "<published>2025-10-15T16:00:00Z</published>"
        '<arxiv:primary_category term="cs.CL"/>'
        f"<author><name>{author}</name><arxiv:affiliation>{affiliation}</arxiv:affiliation>"
        "</author></entry></feed>"
    ).encode()


@dataclass(frozen=True)
class Cleaned:
    """A hostile input that parses, and what its announcement's fields come out as."""

    data: bytes
    title: str | None  # None: whatever the title reads as, as long as it is clean
    abstract: str | None = None
    authors: tuple[str, ...] | None = None
    extra: dict[str, object] = field(default_factory=dict)


CLEANED: dict[str, Cleaned] = {
    "jsonl: lone high surrogate in the title": Cleaned(
        jsonl(jsonl_row(1, title="Lone \ud800 Surrogate")), title="Lone Surrogate"
    ),
    "jsonl: lone low surrogate in the abstract": Cleaned(
        jsonl(jsonl_row(2, abstract="Half \udc00a pair.")),
        title="A Plain Title",
        abstract="Half a pair.",
    ),
    "jsonl: NUL in the title": Cleaned(jsonl(jsonl_row(3, title="Null\x00 Byte")), "Null Byte"),
    "jsonl: ANSI escape sequence and BEL in the title": Cleaned(
        jsonl(jsonl_row(4, title="\x1b[31mRed\x1b[0m \x07Title\x1b]")), "Red Title]"
    ),
    "jsonl: backspace and form feed in the abstract": Cleaned(
        jsonl(jsonl_row(5, abstract="Over\x08written\x0c text.")),
        title="A Plain Title",
        abstract="Overwritten text.",
    ),
    "jsonl: C1 controls and DEL in the title": Cleaned(
        jsonl(jsonl_row(6, title="C1\x9b31m control\x7f")), "C131m control"
    ),
    "jsonl: right-to-left override in the title": Cleaned(
        jsonl(jsonl_row(7, title="Invoice \u202egpj.exe\u202c done")), "Invoice gpj.exe done"
    ),
    "jsonl: bidi isolates and marks in the authors": Cleaned(
        jsonl(jsonl_row(8, authors=["\u2066Ada\u2069 Lovelace\u200f", "\u061cAlan \u200eTuring"])),
        title="A Plain Title",
        authors=("Ada Lovelace", "Alan Turing"),
    ),
    "jsonl: controls in comment, journal ref, DOI and categories": Cleaned(
        jsonl(
            jsonl_row(
                9,
                comment="12 pages\x00\x1b[2J",
                journal_ref="\u202eACL 2025",
                doi="10.1000/x\x07y",
                categories=["cs.CL\x00", "cs.\u202eAI"],
            )
        ),
        title="A Plain Title",
        extra={
            "comment": "12 pages",
            "journal_ref": "ACL 2025",
            "doi": "10.1000/xy",
            "categories": ("cs.CL", "cs.AI"),
        },
    ),
    "jsonl: an author name of control characters only is dropped": Cleaned(
        jsonl(jsonl_row(10, authors=["\x00\x1b", "Alan Turing"])),
        title="A Plain Title",
        authors=("Alan Turing",),
    ),
    "jsonl: byte-order mark and noncharacters in the title": Cleaned(
        jsonl(jsonl_row(11, title="Zero\ufeffWidth \ufffeNon\uffffcharacter")),
        "ZeroWidth Noncharacter",
    ),
    "jsonl: HTML and script in the title stay literal text": Cleaned(
        jsonl(jsonl_row(12, title="<script>alert('x')</script> <b>Bold</b> &amp; Title")),
        "<script>alert('x')</script> <b>Bold</b> &amp; Title",
    ),
    "jsonl: Markdown and a javascript link in the title stay literal text": Cleaned(
        jsonl(jsonl_row(13, title="**Bold** [click](javascript:alert(1)) `code` # H")),
        "**Bold** [click](javascript:alert(1)) `code` # H",
    ),
    "jsonl: line and paragraph separators collapse": Cleaned(
        jsonl(jsonl_row(14, title="Line\u2028Para\u2029graph\r\nEnd")), "Line Para graph End"
    ),
    "rss: raw ESC and BEL bytes in the title": Cleaned(
        rss(15, title="Escape\x1b[1m Bold\x07 Title"), "Escape Bold Title"
    ),
    "rss: character references to controls in the title": Cleaned(
        rss(16, title="Ref&#27;[1m &#x7;Bell&#0; Title&#xD800;"), "Ref[1m Bell Title"
    ),
    "rss: right-to-left override in the abstract and authors": Cleaned(
        rss(
            17, title="Bidi", abstract="Normal \u202etxet desrever\u202c end.", authors="\u202eAda"
        ),
        title="Bidi",
        abstract="Normal txet desrever end.",
        authors=("Ada",),
    ),
    "rss: a surrogate encoded as UTF-8 bytes (invalid UTF-8) in the title": Cleaned(
        rss(23, title="Sur\ud800rogate raw"), title=None
    ),
    "rss: escaped script in the title stays literal text": Cleaned(
        rss(18, title="&lt;script&gt;alert(1)&lt;/script&gt; Title"),
        "<script>alert(1)</script> Title",
    ),
    "atom: NUL and BEL bytes in the summary": Cleaned(
        atom(19, title="Atom", summary="Null\x00 and bell\x07 here."),
        title="Atom",
        abstract="Null and bell here.",
    ),
    "atom: bidi override in the author and affiliation": Cleaned(
        atom(20, title="Atom", author="&#x202E;Ada Lovelace", affiliation="M\u202eIT"),
        title="Atom",
        authors=("Ada Lovelace",),
        extra={"affiliations": ("MIT",)},
    ),
    "atom: surrogate and control references in the title": Cleaned(
        atom(21, title="Sur&#xD800;rogate &#x1B;[2JTitle"), "Surrogate [2JTitle"
    ),
    "gzip jsonl: lone surrogate and NUL survive compression and are cleaned": Cleaned(
        gzip.compress(jsonl(jsonl_row(22, title="Gz\ud83d\x00ip"))), "Gzip"
    ),
}


def gzip_bomb(inflated: int) -> bytes:
    """Gzip bytes of `inflated` zero bytes, compressed a chunk at a time (about 1,000:1)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(1024 * 1024)
    parts = [compressor.compress(chunk) for _ in range(inflated // len(chunk))]
    return b"".join([*parts, compressor.flush()])


# (input, parse_feed keyword arguments, what the one-line error says)
REJECTED: dict[str, tuple[bytes, dict[str, int], str]] = {
    "empty file": (b"", {}, "empty feed"),
    "blank file": (b" \r\n\t\n", {}, "empty feed"),
    "byte-order mark only": (b"\xef\xbb\xbf", {}, "empty feed"),
    "gzip of nothing": (gzip.compress(b""), {}, "empty feed"),
    "truncated gzip": (gzip.compress(jsonl(jsonl_row(1)) * 50)[:-30], {}, "broken gzip data"),
    "gzip magic then garbage": (b"\x1f\x8b" + b"garbage" * 10, {}, "broken gzip data"),
    "gzip bomb over the inflation limit": (
        gzip_bomb(8 * 1024 * 1024),
        {"max_inflated_bytes": 4 * 1024 * 1024},
        "inflates to more than 4 MB, the limit (paperradar.ingest.raw.MAX_INFLATED_BYTES)",
    ),
    "oversized raw feed": (
        jsonl(*(jsonl_row(n) for n in range(100))),
        {"max_bytes": 4096},
        "more than 4,096 bytes, the limit of a feed (paperradar.ingest.raw.MAX_FEED_BYTES)",
    ),
    "jsonl line that is a list": (
        jsonl(jsonl_row(1), [jsonl_row(2)]),
        {},
        "line 2: expected a JSON object, got list",
    ),
    "jsonl line that is a string": (jsonl(jsonl_row(1), "hello"), {}, "got str"),
    "jsonl line that is null": (jsonl(jsonl_row(1), None), {}, "got NoneType"),
    "jsonl line of broken JSON": (jsonl(jsonl_row(1)) + b'\n{"id": ', {}, "line 2: invalid JSON"),
    "jsonl title that is a number": (jsonl(jsonl_row(1, title=42)), {}, "title must be text"),
    "jsonl abstract that is an object": (
        jsonl(jsonl_row(1, abstract={"text": "x"})),
        {},
        "abstract must be text, not dict",
    ),
    "jsonl authors that is a string": (
        jsonl(jsonl_row(1, authors="Ada Lovelace")),
        {},
        "authors must be a list of strings",
    ),
    "jsonl categories of numbers": (
        jsonl(jsonl_row(1, categories=[1, 2])),
        {},
        "categories must be a list of strings",
    ),
    "jsonl date that is not a date": (
        jsonl(jsonl_row(1, date="yesterday")),
        {},
        "is not YYYY-MM-DD",
    ),
    "jsonl id that is no arXiv id": (
        jsonl(jsonl_row(1, id="javascript:alert(1)")),
        {},
        "no arXiv id",
    ),
    "jsonl title of control characters only": (
        jsonl(jsonl_row(1, title="\x00\x1b[0m\u202e\ud800")),
        {},
        "missing title",
    ),
    "jsonl that is not UTF-8": (
        jsonl(jsonl_row(1)).replace(b"Plain", b"Pl\xffin"),
        {},
        "not UTF-8",
    ),
    "rss item whose link holds a newline and no id": (
        rss(1, title="T")
        .replace(b"https://arxiv.org/abs/2510.10001", b"javascript:\nalert(1)")
        .replace(b"oai:arXiv.org:2510.10001v1", b""),
        {},
        "no arXiv id",
    ),
    "an HTML page instead of a feed": (
        b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>",
        {},
        "hostile-feed",
    ),
    "truncated XML": (rss(1, title="T")[:-40], {}, "not well-formed XML"),
}


def text_fields(announcement: Announcement) -> Iterator[str]:
    """Every text an announcement holds."""
    yield announcement.arxiv_id
    yield announcement.title
    yield announcement.abstract
    yield from announcement.authors
    yield from announcement.categories
    yield from announcement.affiliations
    for optional in (announcement.comment, announcement.doi, announcement.journal_ref):
        if optional is not None:
            yield optional


def assert_safe(text: str) -> None:
    """A text is clean: nothing unsafe, one line, UTF-8-encodable, valid XML character data."""
    assert UNSAFE.search(text) is None, ascii(text)
    assert clean_text(text) == text
    assert text == " ".join(text.split())
    text.encode("utf-8")  # raises on a lone surrogate
    assert ElementTree.fromstring(f"<t>{escape(text)}</t>").text in (text, None)


# ---- cleaned ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CLEANED))
def test_hostile_text_is_cleaned_in_every_field(name: str) -> None:
    case = CLEANED[name]
    (announcement,) = parse_feed(case.data, source=SOURCE).announcements
    for text in text_fields(announcement):
        assert_safe(text)
    if case.title is not None:
        assert announcement.title == case.title
    if case.abstract is not None:
        assert announcement.abstract == case.abstract
    if case.authors is not None:
        assert announcement.authors == case.authors
    for name_, expected in case.extra.items():
        assert getattr(announcement, name_) == expected
    paper_text(announcement.title, announcement.abstract).encode("utf-8")
    assert len(announcement.text_sha) == 64


def test_clean_text_drops_every_c0_and_c1_control_but_tab_and_newline() -> None:
    kept = [hex(code) for code in [*range(0x20), *range(0x7F, 0xA0)] if clean_text(chr(code))]
    assert kept == ["0x9", "0xa"]
    assert clean_text("keeps\ttabs\nand newlines, 中文 and emoji \U0001f600") == (
        "keeps\ttabs\nand newlines, 中文 and emoji \U0001f600"
    )


def all_cleaned() -> list[Announcement]:
    return [
        announcement
        for case in CLEANED.values()
        for announcement in parse_feed(case.data, source=SOURCE).announcements
    ]


def test_cleaned_announcements_store_and_read_back_unchanged(engine: Engine) -> None:
    announcements = all_cleaned()
    with Session(engine) as session:
        store_announcements(session, announcements, day=DAY)
        session.commit()
    with Session(engine) as session:
        stored = {paper.arxiv_id: paper for paper in session.exec(select(Paper))}
    assert len(stored) == len(CLEANED)
    for announcement in announcements:
        paper = stored[announcement.arxiv_id]
        assert (paper.title, paper.abstract) == (announcement.title, announcement.abstract)
        assert list(paper.authors) == list(announcement.authors)
        assert paper.text_sha == announcement.text_sha


def test_cleaned_announcements_embed(embedder: Embedder) -> None:
    announcements = all_cleaned()
    vectors = embedder.embed([paper_text(a.title, a.abstract) for a in announcements])
    assert vectors.shape[0] == len(announcements)


# ---- refused ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(REJECTED))
def test_hostile_feed_is_refused_with_one_clear_line(name: str) -> None:
    data, limits, says = REJECTED[name]
    with pytest.raises(FeedError) as raised:
        parse_feed(data, source=SOURCE, **limits)
    message = str(raised.value)
    assert "\n" not in message and "\r" not in message
    assert message.startswith(SOURCE)
    assert says in message
    assert UNSAFE.search(message) is None


def test_production_limits_are_generous_for_a_real_day_and_bounded() -> None:
    from paperradar.ingest.raw import MAX_INFLATED_BYTES

    assert 10 * 1024 * 1024 <= MAX_FEED_BYTES <= MAX_INFLATED_BYTES <= 1024 * 1024 * 1024


# ---- files and downloads over the size limit -------------------------------------------------


def test_feed_file_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "huge.jsonl"
    with big.open("wb") as stream:  # sparse: no disk or time spent on the zeros
        stream.truncate(MAX_FEED_BYTES + 1)
    with pytest.raises(FeedError) as raised:
        fetch.read_capped(big)
    message = str(raised.value)
    assert "\n" not in message
    assert str(big) in message and "100 MB" in message


def test_feed_file_at_the_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "day.jsonl"
    path.write_bytes(jsonl(jsonl_row(1)))
    assert fetch.read_capped(path, limit=path.stat().st_size) == path.read_bytes()
    with pytest.raises(FeedError, match="more than 10 bytes"):
        fetch.read_capped(path, limit=10)


def test_download_over_the_limit_is_refused_by_its_declared_length(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request("/rss").respond_with_data(b"x" * 5000)
    with pytest.raises(FeedError, match=r"/rss holds more than 4,096 bytes, the limit"):
        fetch.download(httpserver.url_for("/rss"), ArxivSettings(), limit=4096)


def test_streamed_download_over_the_limit_is_refused(httpserver: HTTPServer) -> None:
    def endless(_request: object) -> Response:
        # A chunked body with no Content-Length: only counting what arrives can stop it.
        return Response((b"x" * 1024 for _ in range(64)), content_type="application/xml")

    httpserver.expect_request("/rss").respond_with_handler(endless)
    with pytest.raises(FeedError, match="more than 4,096 bytes"):
        fetch.download(httpserver.url_for("/rss"), ArxivSettings(), limit=4096)


def test_gzip_encoded_download_is_capped_once_inflated(httpserver: HTTPServer) -> None:
    bomb = gzip_bomb(4 * 1024 * 1024)
    httpserver.expect_request("/rss").respond_with_data(
        bomb, headers={"Content-Encoding": "gzip"}, content_type="application/xml"
    )
    with pytest.raises(FeedError, match="more than 1 MB"):
        fetch.download(httpserver.url_for("/rss"), ArxivSettings(), limit=1024 * 1024)


# ---- a feed of another day -------------------------------------------------------------------


def test_feed_file_of_another_day_stores_nothing_for_the_day(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "other-day.jsonl"
    path.write_bytes(jsonl(jsonl_row(1, date="2025-10-14"), jsonl_row(2, date="2025-10-14")))
    assert parse_feed(path.read_bytes()).announced_on == date(2025, 10, 14)
    file_settings = settings.model_copy(update={"arxiv": ArxivSettings(feed_file=path)})
    report = fetch.run(engine, DAY, settings=file_settings)
    assert report.note == f"no arXiv announcement on {DAY.isoformat()}"
    with Session(engine) as session:
        assert list(session.exec(select(col(Paper.arxiv_id)))) == []
