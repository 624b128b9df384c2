"""Researcher pages and their index, built over the real two-day test archive, in Chromium."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlmodel import select
from support.web_site import WebArchive

from paperradar.profiles.profile import FollowedName
from paperradar.readers.authors import parse_name
from paperradar.store.db import session_scope
from paperradar.store.records import Paper
from paperradar.web.server import start_server, stop_server
from paperradar.web.stage import ArchiveSource, rebuild

pytestmark = pytest.mark.slow

with contextlib.suppress(ImportError):
    from playwright.sync_api import expect

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}


def _key(author: str) -> str:
    name = parse_name(author)
    assert name is not None
    return name.key


@pytest.fixture(scope="module")
def followed(chromium: Browser, web_archive_of, tmp_path_factory) -> tuple[Path, Paper]:  # type: ignore[no-untyped-def]
    """The archive rebuilt for a profile that follows the last author of a paper never picked."""
    archive: WebArchive = web_archive_of("sqlite")
    with session_scope(archive.ctx.engine) as session:
        papers = session.exec(select(Paper).order_by(Paper.arxiv_id)).all()
        paper = next(p for p in papers if p.arxiv_id not in archive.picked_ids and p.authors)
        session.expunge(paper)
    profile = archive.ctx.profiles[0]
    following = profile.model_copy(update={"authors": [FollowedName(name=paper.authors[-1])]})
    folder = tmp_path_factory.mktemp("people-site")
    settings = archive.ctx.settings.model_copy(update={"data_dir": folder})
    rebuild(ArchiveSource(archive.ctx.engine, (following,), settings, True))
    return settings.web_dir, paper


@pytest.fixture(scope="module")
def base_url(followed: tuple[Path, Paper]) -> Iterator[str]:
    server = start_server(followed[0], "127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    stop_server(server)


def _open(browser: Browser, viewport: dict[str, int], url: str) -> tuple[Page, list[str]]:
    context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda m: problems.append(m.text) if m.type in ("error", "warning") else None,
    )
    page.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    page.goto(url)
    return page, problems


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_the_index_finds_a_followed_researcher_and_their_page_shows_their_work(
    chromium: Browser,
    base_url: str,
    followed: tuple[Path, Paper],
    size: str,
    test_artifacts: Path,
) -> None:
    _, paper = followed
    name = paper.authors[-1]
    page, problems = _open(chromium, VIEWPORTS[size], base_url + "authors/index.html")
    listed = page.locator("#authors li")
    total = listed.count()
    assert total > 10
    page.fill("#author-filter", name.split()[-1])
    visible = page.locator("#authors li:visible")
    expect(visible.filter(has_text=name)).to_have_count(1)
    assert visible.count() < total
    expect(visible.filter(has_text=name)).to_contain_text("已关注")  # the profile reads Chinese
    page.screenshot(path=test_artifacts / f"web-{size}-authors.png", full_page=True)
    page.click(f"#authors li:visible a:text-is('{name}')")
    page.wait_for_load_state("load")
    assert page.url.endswith(f"authors/{_key(name)}.html")
    expect(page.locator("h1")).to_have_text(name)
    expect(page.locator(".author-papers")).to_contain_text(paper.title[:40])
    expect(page.locator(".follow code")).to_have_text(f"/follow {name}")
    expect(page.locator(".author-papers .novelty").first).to_contain_text("新颖度")
    expect(page.locator(".facts")).to_contain_text(paper.categories[0])
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the researcher page scrolls sideways by {overflow}px"
    page.screenshot(path=test_artifacts / f"web-{size}-author.png", full_page=True)
    coauthor = page.locator(".coauthors a").first
    if coauthor.count():
        coauthor.click()
        page.wait_for_load_state("load")
        expect(page.locator(".follow code")).to_contain_text("/follow ")
    assert problems == []
    page.context.close()


def test_every_author_of_a_pick_has_a_page_that_links_the_pick(
    followed: tuple[Path, Paper],
    web_archive_of,  # type: ignore[no-untyped-def]
) -> None:
    site, _ = followed
    archive: WebArchive = web_archive_of("sqlite")
    with session_scope(archive.ctx.engine) as session:
        picked = session.exec(select(Paper).where(Paper.arxiv_id.in_(archive.picked_ids))).all()
    for paper in picked:
        for author in paper.authors:
            if parse_name(author) is None or not parse_name(author).given:  # type: ignore[union-attr]
                continue
            html = (site / f"authors/{_key(author)}.html").read_text(encoding="utf-8")
            assert f"papers/{paper.arxiv_id.replace('/', '_')}.html" in html
    index = (site / "authors" / "index.html").read_text(encoding="utf-8")
    assert "<script>" not in index.replace('<script src="../assets/authors.js"></script>', "")
