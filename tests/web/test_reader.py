"""What a reader of the archive gets: their language, no operator detail, files a host can serve."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest
from support.failed_summary import ENDPOINT_ERROR, OPERATOR_DETAIL, FailedSummarySites
from support.web_site import SECOND_DAY, WebArchive

from paperradar.i18n import words
from paperradar.i18n.catalog import catalog, placeholders
from paperradar.store.files import write_atomic
from paperradar.web import stage as web

CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")


class _Visible(HTMLParser):
    """The text of a page outside <script>, split by the language of its element."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str | None] = []
        self.texts: dict[str | None, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("meta", "link", "br", "input", "img", "line", "rect", "circle", "path"):
            return
        language = dict(attrs).get("lang", self.stack[-1] if self.stack else None)
        self.stack.append("script" if tag == "script" else language)

    def handle_endtag(self, tag: str) -> None:
        if tag not in ("meta", "link", "br", "input", "img", "line", "rect", "circle", "path"):
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        language = self.stack[-1] if self.stack else None
        if language != "script":
            self.texts.setdefault(language, []).append(data)

    def text(self, language: str | None) -> str:
        return " ".join(self.texts.get(language, ()))


def _visible(page: Path) -> _Visible:
    parser = _Visible()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def _english_chrome() -> list[str]:
    """The fixed English pieces of the web catalog (its texts cut at their placeholders)."""
    pieces = set()
    for key, forms in catalog().items():
        if not key.startswith("web.") or key.endswith("_pattern"):
            continue
        for text in forms["en"].values():
            for name in placeholders(text):
                text = text.replace("{" + name + "}", "\n")
            pieces.update(piece.strip(" .:;,()") for piece in text.split("\n"))
    # Short pieces ("abs", "pdf") are words paper text uses too.
    return sorted(piece for piece in pieces if len(piece) >= 8)


def test_write_atomic_respects_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        write_atomic(tmp_path / "site" / "page.html", b"<!doctype html>")
        os.umask(0o077)
        write_atomic(tmp_path / "private.json", b"{}")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "site" / "page.html").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "site").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "private.json").stat().st_mode) == 0o600
    assert [path.name for path in tmp_path.rglob(".*")] == []  # no temporary file left


@pytest.mark.slow
def test_every_site_file_and_folder_is_world_readable(
    web_archive: WebArchive, tmp_path: Path
) -> None:
    settings = web_archive.ctx.settings
    section = settings.web.model_copy(update={"out_dir": tmp_path / "site"})
    ctx = replace(web_archive.ctx, settings=settings.model_copy(update={"web": section}))
    previous = os.umask(0o022)
    try:
        web.rebuild(ctx.archive())
    finally:
        os.umask(previous)
    files = list((tmp_path / "site").rglob("*"))
    assert len(files) > 30
    for path in files:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & stat.S_IROTH, f"{path} is {oct(mode)}"
        assert not path.is_dir() or mode & stat.S_IXOTH, f"{path} is {oct(mode)}"


@pytest.mark.slow
def test_a_failed_summary_shows_a_plain_sentence_and_no_operator_detail(
    failed_summary_sites: FailedSummarySites,
) -> None:
    checked = 0
    for site in (failed_summary_sites.zh, failed_summary_sites.en):
        for path in site.rglob("*"):
            if path.is_file():
                text = path.read_text(encoding="utf-8", errors="replace")
                for detail in OPERATOR_DETAIL:
                    assert detail not in text, f"{path}: {detail}"
                checked += 1
    assert checked > 60
    for site, language in ((failed_summary_sites.zh, "zh"), (failed_summary_sites.en, "en")):
        paper = site / "papers" / f"{failed_summary_sites.failed_id}.html"
        day = site / "default" / f"{SECOND_DAY.isoformat()}.html"
        unavailable = words(language)("common.summary_unavailable")
        assert unavailable in paper.read_text(encoding="utf-8")
        assert unavailable in day.read_text(encoding="utf-8")
    # The operator still learns why, from the log.
    assert failed_summary_sites.failed_id in failed_summary_sites.log
    assert ENDPOINT_ERROR in failed_summary_sites.log


@pytest.mark.slow
def test_chinese_pages_have_chinese_chrome_and_english_pages_no_chinese(
    failed_summary_sites: FailedSummarySites,
) -> None:
    english = _english_chrome()
    assert "Skip to content" in english and "Search past picks" in english
    zh_pages = sorted(failed_summary_sites.zh.rglob("*.html"))
    en_pages = sorted(failed_summary_sites.en.rglob("*.html"))
    assert len(zh_pages) == len(en_pages) > 20
    for page in zh_pages:
        visible = _visible(page)
        assert 'lang="zh-Hans"' in page.read_text(encoding="utf-8")[:200]
        chrome = visible.text(None) + visible.text("zh-Hans")
        leaks = [piece for piece in english if piece in chrome]
        assert not leaks, f"{page}: {leaks}"
    for page in en_pages:
        visible = _visible(page)
        assert 'lang="en"' in page.read_text(encoding="utf-8")[:200]
        assert not CJK.search(visible.text(None) + visible.text("en")), page
        assert not visible.text("zh"), page


@pytest.mark.slow
def test_day_page_dates_and_headings_are_the_readers(
    failed_summary_sites: FailedSummarySites,
) -> None:
    name = f"default/{SECOND_DAY.isoformat()}.html"
    zh = (failed_summary_sites.zh / name).read_text(encoding="utf-8")
    en = (failed_summary_sites.en / name).read_text(encoding="utf-8")
    assert f"<h1>{words('zh').day(SECOND_DAY, year=True)}</h1>" in zh
    assert f"<h1>{words('en').day(SECOND_DAY, year=True)}</h1>" in en
    assert "模型融合" in zh and "专题命中" in zh and "跳到正文" in zh
    assert "Model merging" in en and "Topic hit" in en and "Skip to content" in en
