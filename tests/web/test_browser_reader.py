"""The archive as a reader meets it in Chromium, on a phone (390 px) and a desktop (1280 px)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest
from support.failed_summary import OPERATOR_DETAIL, FailedSummarySites
from support.web_site import SECOND_DAY

from paperradar.web.search_index import SEARCH_GLOBAL
from paperradar.web.server import start_server, stop_server

pytestmark = pytest.mark.slow

with contextlib.suppress(ImportError):
    from playwright.sync_api import expect

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
DAY = f"default/{SECOND_DAY.isoformat()}.html"
# The smallest text a reader should have to read, in CSS pixels.
SMALLEST_LABEL = 10


@pytest.fixture(scope="module")
def sites(chromium: Browser, failed_summary_sites: FailedSummarySites) -> FailedSummarySites:
    return failed_summary_sites


@pytest.fixture(scope="module")
def zh_url(sites: FailedSummarySites) -> Iterator[str]:
    server = start_server(sites.zh, "127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    stop_server(server)


@pytest.fixture(params=list(WIDTHS))
def page(request: pytest.FixtureRequest, chromium: Browser) -> Iterator[Page]:
    phone = request.param == "phone"
    context = chromium.new_context(viewport=WIDTHS[request.param], is_mobile=phone)  # type: ignore[arg-type]
    opened = context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(str(error)))
    opened.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    yield opened
    context.close()
    assert problems == []


def _picks_of_topic(site: Path, topic: str) -> set[str]:
    prefix = f"(window.{SEARCH_GLOBAL}=window.{SEARCH_GLOBAL}||[]).push("
    found = set()
    for shard_file in (site / "search").glob("*.js"):
        shard = json.loads(shard_file.read_text("utf-8").strip()[len(prefix) : -2])
        for row in shard["rows"]:
            if any(pick[1] == topic for pick in row[-1]):
                found.add(f"papers/{row[0]}.html")
    return found


def _results(page: Page) -> set[str]:
    page.wait_for_selector("#status[data-count]")
    return {link.get_attribute("href") or "" for link in page.locator("#results a.title").all()}


def test_searching_a_topics_chinese_title_finds_its_picks(
    sites: FailedSummarySites, zh_url: str, page: Page
) -> None:
    merging = _picks_of_topic(sites.zh, "model_merging")
    assert len(merging) >= 2
    page.goto(zh_url + "search.html?q=" + quote("模型融合"))
    assert merging <= _results(page)
    expect(page.locator("#status")).to_contain_text("找到")
    expect(page.locator("#results mark", has_text="模型融合").first).to_be_visible()
    # Chinese is written without spaces: part of a name finds it too.
    page.fill("#query", "融合")
    expect(page.locator("#status")).to_contain_text("找到")
    assert merging <= _results(page)
    # An empty result says what was searched and what to try.
    page.fill("#query", "模型融合 zzqx")
    expect(page.locator("#status")).to_contain_text("模型融合 zzqx")
    expect(page.locator("#hint")).to_be_visible()
    assert page.locator("#results li").count() == 0


def test_chart_labels_are_readable_and_the_bars_use_the_width(
    zh_url: str, page: Page, test_artifacts: Path
) -> None:
    page.goto(zh_url + "default/topics/model_merging.html")
    labels = page.locator("figure.chart .axis-label, figure.chart .bar-value")
    assert labels.count() >= 6
    for label in labels.all():
        size = label.evaluate("node => parseFloat(getComputedStyle(node).fontSize)")
        box = label.bounding_box()
        assert box is not None and size >= SMALLEST_LABEL and box["height"] >= SMALLEST_LABEL
    plot = page.locator("svg.plot").first.bounding_box()
    bars = [bar.bounding_box() for bar in page.locator("svg.plot rect.bar").all()]
    assert plot is not None and all(bars)
    spread = max(b["x"] + b["width"] for b in bars) - min(b["x"] for b in bars)  # type: ignore[index]
    assert spread > plot["width"] / 2
    expect(page.locator("table.chart-table tbody tr").first).to_be_visible()
    width = page.viewport_size["width"] if page.viewport_size else 0
    page.locator("figure.chart").first.screenshot(path=test_artifacts / f"chart-{width}.png")


def test_skip_link_comes_first_and_the_calendar_soon_after(zh_url: str, page: Page) -> None:
    page.goto(zh_url + DAY)
    page.keyboard.press("Tab")
    expect(page.locator("a.skip")).to_be_focused()
    expect(page.locator("a.skip")).to_be_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.goto(zh_url + DAY)
    focused = []
    for _ in range(4):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.getAttribute('href')"))
    assert focused[0] == "#main"
    assert any(href.endswith("#calendar") for href in focused if href), focused


def test_no_page_shows_operator_detail(sites: FailedSummarySites, chromium: Browser) -> None:
    context = chromium.new_context(viewport=WIDTHS["phone"], is_mobile=True)  # type: ignore[arg-type]
    try:
        _show_no_operator_detail(sites, context.new_page())
    finally:
        context.close()


def _show_no_operator_detail(sites: FailedSummarySites, page: Page) -> None:
    pages = [*sites.zh.rglob("*.html"), *sites.en.rglob("*.html")]
    for path in pages:
        page.goto(path.as_uri())
        shown = page.evaluate("document.body.innerText")
        source = page.content()
        for detail in OPERATOR_DETAIL:
            assert detail not in shown and detail not in source, f"{path}: {detail}"
    page.goto((sites.zh / "papers" / f"{sites.failed_id}.html").as_uri())
    expect(page.locator("p.note")).to_have_text("暂无 AI 总结，以下为原文摘要。")


def test_day_page_on_a_phone_lists_the_picks_first_with_abstracts_closed(
    sites: FailedSummarySites, chromium: Browser, test_artifacts: Path
) -> None:
    context = chromium.new_context(viewport=WIDTHS["phone"], is_mobile=True)  # type: ignore[arg-type]
    try:
        phone = context.new_page()
        for language, site in (("zh", sites.zh), ("en", sites.en)):
            phone.goto((site / DAY).as_uri())
            expect(phone.locator("nav.contents li").first).to_be_in_viewport()
            assert phone.locator("details[open]").count() == 0
            overflow = phone.evaluate("document.documentElement.scrollWidth - innerWidth")
            assert overflow <= 0
            phone.screenshot(path=test_artifacts / f"archive-day-{language}.png", full_page=True)
    finally:
        context.close()
