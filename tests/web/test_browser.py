"""The web archive in headless Chromium: served over HTTP and opened from the files alone."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest
from support.web_site import FIRST_DAY, SECOND_DAY, WebArchive

from paperradar.i18n import words
from paperradar.web.server import start_server, stop_server

# A real Chromium over a real archive.
pytestmark = pytest.mark.slow

# Without Playwright the `chromium` fixture skips these tests (and fails them in CI).
with contextlib.suppress(ImportError):
    from playwright.sync_api import expect

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def archive(chromium: Browser, web_archive_of) -> WebArchive:  # type: ignore[no-untyped-def]
    """The sqlite archive, built only once Chromium is known to be there."""
    return web_archive_of("sqlite")  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def base_url(archive: WebArchive) -> Iterator[str]:
    server = start_server(archive.site, "127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    stop_server(server)


class Watched:
    """A browser page that records every console error, page error and failed request."""

    def __init__(self, browser: Browser, **options: object) -> None:
        self.context = browser.new_context(**options)  # type: ignore[arg-type]
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on(
            "console",
            lambda message: (
                self.problems.append(f"console {message.type}: {message.text}")
                if message.type in ("error", "warning")
                else None
            ),
        )
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        # A request the browser itself cancels because the page navigated away (the favicon of
        # a page left by a click, say) is ERR_ABORTED; a missing or broken file fails otherwise.
        self.page.on(
            "requestfailed",
            lambda request: (
                None
                if request.failure == "net::ERR_ABORTED"
                else self.problems.append(f"failed: {request.url} ({request.failure})")
            ),
        )
        self.page.on(
            "response",
            lambda response: (
                self.problems.append(f"{response.status}: {response.url}")
                if response.status >= 400
                else None
            ),
        )

    def open(self, url: str) -> Page:
        self.page.goto(url)
        self.page.wait_for_load_state("load")
        return self.page

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watched(chromium: Browser) -> Iterator[Watched]:
    window = Watched(chromium)
    yield window
    window.close()


def _chinese_query(archive: WebArchive) -> str:
    run = re.search(r"[\u4e00-\u9fff]{4,}", archive.zh_title)
    assert run, archive.zh_title
    return run.group(0)[:4]


def _pages_to_visit(archive: WebArchive) -> dict[str, str]:
    return {
        "index": "index.html",
        "profile": "default/index.html",
        "day": f"default/{SECOND_DAY.isoformat()}.html",
        "first-day": f"default/{FIRST_DAY.isoformat()}.html",
        "topic": "default/topics/model_merging.html",
        "paper-zh": f"papers/{archive.zh_id}.html",
        "paper-hostile": f"papers/{archive.hostile_id}.html",
        "search": f"search.html?q={quote(_chinese_query(archive))}",
    }


def test_pages_load_without_console_errors(
    archive: WebArchive, base_url: str, watched: Watched, test_artifacts: Path
) -> None:
    for name, path in _pages_to_visit(archive).items():
        page = watched.open(base_url + path)
        expect(page.locator("header .brand")).to_be_visible()
        page.screenshot(path=test_artifacts / f"web-{name}.png", full_page=True)
    assert watched.problems == []


def test_pages_fit_a_phone_screen(
    archive: WebArchive, base_url: str, chromium: Browser, test_artifacts: Path
) -> None:
    phone = Watched(chromium, viewport=PHONE, device_scale_factor=2, is_mobile=True)
    try:
        for name in ("day", "paper-zh", "topic", "profile"):
            page = phone.open(base_url + _pages_to_visit(archive)[name])
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{name} scrolls sideways by {overflow}px"
            page.screenshot(path=test_artifacts / f"web-phone-{name}.png")
        assert phone.problems == []
    finally:
        phone.close()


def _result_links(page: Page) -> list[str]:
    page.wait_for_selector("#status[data-count]")
    return [link.get_attribute("href") or "" for link in page.locator("#results a.title").all()]


def test_search_finds_a_paper_by_a_chinese_and_by_an_english_query(
    archive: WebArchive, base_url: str, watched: Watched, test_artifacts: Path
) -> None:
    target = f"papers/{archive.zh_id}.html"
    page = watched.open(base_url + f"search.html?q={quote(_chinese_query(archive))}")
    assert target in _result_links(page)
    page.screenshot(path=test_artifacts / "web-search-zh.png", full_page=True)

    title = page.locator(f'#results a.title[href="{target}"]').inner_text()
    words = [word for word in re.findall(r"[A-Za-z]{5,}", title)][:2]
    page.fill("#query", " ".join(words).upper())
    expect(page.locator(f'#results a.title[href="{target}"]')).to_be_visible()
    assert "q=" in page.url
    page.screenshot(path=test_artifacts / "web-search-en.png", full_page=True)

    page.fill("#query", "zzqx-no-such-word")
    expect(page.locator("#status")).to_have_attribute("data-count", "0")
    expect(page.locator("#status")).to_contain_text("zzqx-no-such-word")
    expect(page.locator("#hint")).to_be_visible()
    assert watched.problems == []


def test_header_search_box_leads_to_the_results(
    archive: WebArchive, base_url: str, watched: Watched
) -> None:
    page = watched.open(base_url + "default/index.html")
    page.fill("header input[name=q]", _chinese_query(archive))
    page.press("header input[name=q]", "Enter")
    page.wait_for_url(re.compile(r"search\.html\?q="))
    assert f"papers/{archive.zh_id}.html" in _result_links(page)
    assert watched.problems == []


def test_language_toggle_switches_and_is_remembered_across_reloads(
    archive: WebArchive, base_url: str, watched: Watched, test_artifacts: Path
) -> None:
    page = watched.open(base_url + f"papers/{archive.zh_id}.html")
    chinese, english = page.locator(".title-zh").first, page.locator(".tldr.en").first
    expect(chinese).to_be_visible()
    expect(english).to_be_visible()
    page.click("button[data-show-mode=en]")
    expect(chinese).to_be_hidden()
    expect(english).to_be_visible()
    page.reload()
    expect(page.locator(".title-zh").first).to_be_hidden()
    expect(page.locator("button[data-show-mode=en]")).to_have_attribute("aria-pressed", "true")
    page.screenshot(path=test_artifacts / "web-toggle-en.png", full_page=True)
    page.click("button[data-show-mode=zh]")
    page.goto(base_url + f"default/{SECOND_DAY.isoformat()}.html")
    expect(page.locator(".tldr.en").first).to_be_hidden()
    expect(page.locator(".tldr.zh").first).to_be_visible()
    page.screenshot(path=test_artifacts / "web-toggle-zh.png", full_page=True)
    page.click("button[data-show-mode=both]")
    assert watched.problems == []


def test_hostile_title_renders_as_text_and_runs_nothing(
    archive: WebArchive, base_url: str, watched: Watched
) -> None:
    page = watched.open(base_url + f"papers/{archive.hostile_id}.html")
    assert page.locator("h1.title").inner_text() == archive.hostile_title
    assert page.locator("img").count() == 0
    page = watched.open(base_url + "search.html?q=window.pwned")
    expect(page.locator("#results a.title")).to_have_text([archive.hostile_title])
    page = watched.open(base_url + f"default/{SECOND_DAY.isoformat()}.html")
    expect(page.get_by_text(archive.hostile_title)).to_have_count(2)  # contents and pick
    expect(page.get_by_text(archive.hostile_title).last).to_be_visible()
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert page.locator("main img").count() == 0
    assert watched.problems == []


def test_links_on_each_page_resolve_on_the_server(
    archive: WebArchive, base_url: str, watched: Watched
) -> None:
    checked: set[str] = set()
    for path in _pages_to_visit(archive).values():
        page = watched.open(base_url + path)
        hrefs = page.eval_on_selector_all("a[href]", "links => links.map(link => link.href)")
        for href in hrefs:
            local = href.split("#")[0]
            if not local.startswith(base_url) or local in checked:
                continue
            checked.add(local)
            assert watched.page.request.get(local).status == 200, f"{path}: {href}"
    assert len(checked) > 20
    assert watched.problems == []


def test_archive_works_from_the_files_alone(
    archive: WebArchive, watched: Watched, test_artifacts: Path
) -> None:
    root = archive.site.as_uri() + "/"
    page = watched.open(root + "index.html")
    expect(page.locator(".item").first).to_be_visible()
    page.click("button[data-show-mode=en]")
    page.reload()
    expect(page.locator("button[data-show-mode=en]")).to_have_attribute("aria-pressed", "true")
    page.click("button[data-show-mode=both]")
    page.click(f'a[href="default/{SECOND_DAY.isoformat()}.html"] >> nth=0')
    expect(page.locator("h1")).to_have_text(words("zh").day(SECOND_DAY, year=True))
    page = watched.open(root + f"search.html?q={quote(_chinese_query(archive))}")
    assert f"papers/{archive.zh_id}.html" in _result_links(page)
    page.screenshot(path=test_artifacts / "web-file-search.png", full_page=True)
    assert watched.problems == []
