import json
import urllib.error
import urllib.request
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from email.message import Message
from html.parser import HTMLParser
from pathlib import Path
from posixpath import normpath

import feedparser
import pytest
from click.testing import CliRunner
from pydantic import ValidationError
from support.web_site import FIRST_DAY, SECOND_DAY, WebArchive

from paperradar.app import App
from paperradar.cli.main import main
from paperradar.i18n import words
from paperradar.profiles.profile import Profile
from paperradar.service.pipeline import run_stage
from paperradar.settings import WebSettings
from paperradar.web import stage as web
from paperradar.web.archive import PaperBrief, PickRow, SummaryBrief
from paperradar.web.chart import TrendPoint, trend_chart
from paperradar.web.search_index import (
    SEARCH_FIELDS,
    SEARCH_GLOBAL,
    abstract_words,
    search_shard,
)
from paperradar.web.server import start_server, stop_server
from paperradar.web.site import CONTENT_SECURITY_POLICY, Site, render_feed
from paperradar.web.trends import count_terms, top_keywords

BASE_URL = "https://radar.example.org/archive/"


def _shards(site: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    shards = {}
    prefix = f"(window.{SEARCH_GLOBAL}=window.{SEARCH_GLOBAL}||[]).push("
    for path in sorted((site / "search").glob("*.js")):
        text = path.read_text(encoding="utf-8").strip()
        assert text.startswith(prefix) and text.endswith(");")
        shards[path.stem] = json.loads(text[len(prefix) : -2])
    return shards


def _rows(site: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    return {
        row[0]: dict(zip(SEARCH_FIELDS, row, strict=True))
        for shard in _shards(site).values()
        for row in shard["rows"]
    }


def _pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


class _Tags(HTMLParser):
    """Every start tag of a page with its attributes, and the text outside tags."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _tags(page: Path) -> _Tags:
    parser = _Tags()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def _copy_context(archive: WebArchive, out_dir: Path, **web: object) -> App:
    settings = archive.ctx.settings
    section = settings.web.model_copy(update={"out_dir": out_dir, **web})
    return App(
        settings=settings.model_copy(update={"web": section}),
        engine=archive.ctx.engine,
        profiles=archive.ctx.profiles,
        embedder=archive.ctx.embedder,
        llm=None,
    )


@pytest.mark.slow
def test_search_index_has_a_row_per_picked_paper_with_its_chinese_fields(
    web_archive: WebArchive,
) -> None:
    shards = _shards(web_archive.site)
    assert list(shards) == ["2025-10"]
    shard = shards["2025-10"]
    assert shard["fields"] == list(SEARCH_FIELDS)
    rows = _rows(web_archive.site)
    assert set(rows) == web_archive.picked_ids
    assert len(shard["rows"]) == len(rows)
    chinese = rows[web_archive.zh_id]
    assert chinese["title_zh"] == web_archive.zh_title
    assert chinese["tldr_zh"]
    days = [row["day"] for row in rows.values()]
    assert days == sorted(days, reverse=True)
    topics = shard["topics"]["default"]
    assert topics["model_merging"] == ["Model merging and heterogeneous model fusion", "模型融合"]
    for row in rows.values():
        for profile, topic, day, percent in row["picks"]:
            assert profile == "default" and topic in topics
            assert day in (FIRST_DAY.isoformat(), SECOND_DAY.isoformat())
            assert 0 <= percent <= 100
    assert len(shard["words"]) == len(shard["postings"]) > 500
    assert not {"the", "and", "of"} & set(shard["words"])
    assert shard["words"] == sorted(shard["words"])


def _pick(arxiv_id: str, title: str, abstract: str, day: date) -> PickRow:
    paper = PaperBrief(arxiv_id, title, ("A. Author",), abstract)
    summary = SummaryBrief("模型融合", "提出一种合并方法。", "A merging method.")
    moment = datetime(2025, 10, 15, 14, tzinfo=UTC)
    return PickRow("p", "t", day, 1, 80, "keywords", moment, paper, summary)


def test_word_index_lists_the_rows_of_each_abstract_word_as_gaps() -> None:
    day = date(2025, 10, 15)
    picks = [
        _pick("2510.00003", "Merging", "Merging adapters beats averaging adapters.", day),
        _pick("2510.00002", "Averaging", "Weight averaging of adapters.", day),
        _pick("2510.00001", "Soups", "Model soups: averaging weights.", day),
        _pick("2510.00003", "Merging", "Merging adapters beats averaging adapters.", day),
    ]
    profile = Profile.model_validate(
        {"name": "p", "topics": {"t": {"title": "T", "description": "t"}}}
    )
    shard = search_shard(picks, [profile])
    assert [row[0] for row in shard["rows"]] == ["2510.00003", "2510.00002", "2510.00001"]  # type: ignore[index]
    index = dict(zip(shard["words"], shard["postings"], strict=True))  # type: ignore[call-overload]
    assert index["adapters"] == [0, 1]  # rows 0 and 1
    assert index["averaging"] == [0, 2]  # rows 0 and 2 (row 1 has it in its title)
    assert index["weights"] == [2] and "merging" not in index
    assert shard["rows"][0][-1] == [["p", "t", "2025-10-15", 80]] * 2  # type: ignore[index]


def test_abstract_words_are_distinct_sorted_and_leave_out_stopwords_and_the_title() -> None:
    words = abstract_words(
        "We merge models. Merging the models with TIES-merging beats merging by averaging.",
        title="Model merging",
    )
    assert words == ["averaging", "beats", "merge", "models", "ties"]


@pytest.mark.slow
def test_feeds_are_valid_atom_with_absolute_links_to_existing_pages(
    web_archive: WebArchive,
) -> None:
    feeds = [web_archive.site / "default" / "feed.atom"]
    feeds += sorted((web_archive.site / "default" / "topics").glob("*.atom"))
    assert len(feeds) == 4
    for path in feeds:
        feed = feedparser.parse(path.read_bytes())
        assert not feed.bozo, (path, feed.get("bozo_exception"))
        assert feed.version == "atom10"
        ids = [entry.id for entry in feed.entries]
        assert ids and len(set(ids)) == len(ids)
        for entry in feed.entries:
            assert entry.link.startswith(BASE_URL + "papers/")
            assert (web_archive.site / entry.link.removeprefix(BASE_URL)).is_file()
            assert entry.updated_parsed is not None
        assert feed.feed.links[0].href == BASE_URL + path.relative_to(web_archive.site).as_posix()
    everything = feedparser.parse(feeds[0].read_bytes())
    hostile = [entry for entry in everything.entries if web_archive.hostile_id in entry.link]
    assert [entry.title for entry in hostile] == [web_archive.hostile_title]
    chinese = next(entry for entry in everything.entries if web_archive.zh_id in entry.link)
    assert web_archive.zh_title in chinese.content[0].value


@pytest.mark.slow
def test_feed_and_entry_ids_stay_the_same_when_the_site_moves(
    web_archive: WebArchive, tmp_path: Path
) -> None:
    moved = _copy_context(web_archive, tmp_path / "moved", base_url="https://elsewhere.example/")
    web.rebuild(moved.archive())
    for relative in ("default/feed.atom", "default/topics/model_merging.atom"):
        before = feedparser.parse((web_archive.site / relative).read_bytes())
        after = feedparser.parse((tmp_path / "moved" / relative).read_bytes())
        assert before.feed.id == after.feed.id
        assert [entry.id for entry in before.entries] == [entry.id for entry in after.entries]
        assert after.entries[0].link.startswith("https://elsewhere.example/papers/")


@pytest.mark.slow
def test_topic_page_draws_its_trend_as_svg_with_a_bar_per_digest_day(
    web_archive: WebArchive,
) -> None:
    html = (web_archive.site / "default" / "topics" / "model_merging.html").read_text("utf-8")
    start, end = html.index("<svg"), html.index("</svg>") + len("</svg>")
    svg = ElementTree.fromstring(html[start:end])
    namespace = "{http://www.w3.org/2000/svg}"
    assert svg.get("viewBox") is None  # x in percent of the page, labels in pixels
    bars = svg.findall(f"{namespace}rect")
    assert len(bars) == 2  # the two digest days
    assert all(bar.get("x", "").endswith("%") for bar in bars)
    titles = [bar.find(f"{namespace}title").text or "" for bar in bars]  # type: ignore[union-attr]
    assert titles[0].startswith(words("zh").day(FIRST_DAY, year=True) + "：精选")
    assert "最高相关度" in titles[1]
    assert [line.get("class") for line in svg.findall(f"{namespace}line")][1:] == ["relevance"]
    assert '<th scope="row">2025年10月</th>' in html  # the values, without hovering


def test_trend_chart_scales_bars_to_the_busiest_day_and_breaks_the_line_on_gaps() -> None:
    start = date(2025, 9, 29)
    points = [
        TrendPoint(start + timedelta(days=offset), picks, top)
        for offset, (picks, top) in enumerate([(2, 70), (4, 88), (0, None), (1, 45)])
    ]
    chart = trend_chart(points, words("zh"))
    assert [bar.height for bar in chart.bars] == [0.5, 1, 0, 0.25]
    assert [bar.value for bar in chart.bars] == [2, 4, 0, 1]
    assert len(chart.segments) == 1  # 70 → 88, then a gap; 45 alone is a dot
    assert len(chart.dots) == 3
    assert [tick.label for tick in chart.ticks] == ["9月29日", "9月30日", "10月1日", "10月2日"]
    assert chart.bars[2].title == "2025年10月1日 星期三：精选 0 篇"
    assert chart.bar_labels  # four days across the width: room for a value on each bar
    assert chart.bars[0].x < 0.25 < chart.bars[-1].x  # the days span the plot's width


def test_trend_chart_draws_a_five_month_gap_as_a_gap_on_a_time_axis() -> None:
    days = [date(2025, 1, 6), date(2025, 1, 7), date(2025, 6, 10)]
    chart = trend_chart([TrendPoint(day, 2, 60) for day in days], words("en"))
    first, second, last = chart.bars
    assert first.x < 0.01 and last.x + last.width > 0.99  # the whole width, oldest to newest
    assert second.x - first.x == pytest.approx(1 / 156)  # one day of the 156 shown
    assert last.x - second.x > 0.95  # the five months between are empty space
    assert len(chart.segments) == 1  # the line does not bridge the pause
    assert not chart.bar_labels  # bars a day apart: their values are in the table
    assert [(month.label, month.days, month.picks) for month in chart.months] == [
        ("Jan 2025", 2, 4),
        ("Jun 2025", 1, 2),
    ]
    labels = [tick.label for tick in chart.ticks]
    assert labels[0] == "Jan 2025" and len(labels) <= 6
    assert all(0 <= tick.x <= 1 for tick in chart.ticks)


def test_keywords_favour_terms_the_picks_share_over_terms_every_paper_uses() -> None:
    picks = [
        "Model merging for large language models",
        "Task arithmetic and model merging in large language models",
        "Merging models with task arithmetic",
        "Large language models for code",
    ]
    background = count_terms([*picks] + [f"Large language models for topic {n}" for n in range(50)])
    keywords = top_keywords(picks, background)
    terms = [keyword.term for keyword in keywords]
    assert terms[:2] == ["model merging", "task arithmetic"]
    assert terms.index("large language") > terms.index("task arithmetic")
    assert {keyword.term: keyword.count for keyword in keywords}["model merging"] == 2


@pytest.mark.slow
def test_strings_from_arxiv_and_the_llm_are_escaped_everywhere(web_archive: WebArchive) -> None:
    for path in [*_pages(web_archive.site), *web_archive.site.rglob("*.atom")]:
        text = path.read_text(encoding="utf-8")
        assert "<script>window.pwned" not in text, path
        assert "<img src=x" not in text, path
    paper = web_archive.site / "papers" / f"{web_archive.hostile_id}.html"
    parsed = _tags(paper)
    assert web_archive.hostile_title in "".join(parsed.text)
    assert not [attrs for tag, attrs in parsed.tags if tag == "img"]


@pytest.mark.slow
def test_pages_have_a_strict_policy_and_no_inline_script_style_or_handler(
    web_archive: WebArchive,
) -> None:
    pages = _pages(web_archive.site)
    assert len(pages) > len(web_archive.picked_ids)
    for page in pages:
        parsed = _tags(page)
        policies = [
            attrs.get("content")
            for tag, attrs in parsed.tags
            if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy"
        ]
        assert policies == [CONTENT_SECURITY_POLICY], page
        for tag, attrs in parsed.tags:
            assert tag != "script" or attrs.get("src"), page
            assert "style" not in attrs, page
            assert not [name for name in attrs if name.startswith("on")], page
    assert "https:" not in CONTENT_SECURITY_POLICY and "unsafe" not in CONTENT_SECURITY_POLICY


@pytest.mark.slow
def test_every_local_link_and_asset_resolves_to_a_file(web_archive: WebArchive) -> None:
    checked = 0
    for page in _pages(web_archive.site):
        folder = page.parent.relative_to(web_archive.site).as_posix()
        for _tag, attrs in _tags(page).tags:
            target = attrs.get("href") or attrs.get("src") or ""
            if not target or target.startswith(("https://", "http://", "#")):
                continue
            path = target.split("#")[0].split("?")[0]
            resolved = normpath(f"{folder}/{path}") if folder != "." else normpath(path)
            assert (web_archive.site / resolved).is_file(), f"{page}: {target}"
            checked += 1
    assert checked > 200


@pytest.mark.slow
def test_a_day_rewrites_only_the_pages_it_touches_and_a_rerun_writes_nothing(
    web_archive: WebArchive, tmp_path: Path
) -> None:
    ctx = _copy_context(web_archive, tmp_path / "site")
    web.rebuild(ctx.archive())
    first_only = next(
        paper_id
        for paper_id, row in _rows(ctx.settings.web_dir).items()
        if {pick[2] for pick in row["picks"]} == {FIRST_DAY.isoformat()}
    )
    page = ctx.settings.web_dir / "papers" / f"{first_only}.html"
    page.unlink()
    report = run_stage(ctx, "web", SECOND_DAY)
    assert not page.exists()  # a paper of another day is not rebuilt
    assert report.written == 0  # everything the day touches was already current
    assert run_stage(ctx, "web", SECOND_DAY).written == 0
    assert web.rebuild(ctx.archive()).written == 1
    assert page.is_file()


def test_a_profile_named_like_a_site_folder_is_refused() -> None:
    with pytest.raises(ValidationError, match="rename the profile"):
        Profile.model_validate(
            {"name": "assets", "topics": {"x": {"title": "X", "description": "x"}}}
        )


def test_base_url_must_be_http_and_gains_a_trailing_slash() -> None:
    assert (
        WebSettings(base_url="https://you.github.io/radar").base_url
        == "https://you.github.io/radar/"
    )
    with pytest.raises(ValidationError, match="PAPERRADAR_WEB__BASE_URL"):
        WebSettings(base_url="you.github.io/radar")


def _get(url: str) -> tuple[int, Message, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, b""


@pytest.mark.slow
def test_server_sends_pages_with_security_headers_and_lists_no_folder(
    web_archive: WebArchive,
) -> None:
    server = start_server(web_archive.site, "127.0.0.1", 0)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        status, headers, body = _get(base)
        assert status == 200 and b"<!doctype html>" in body
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        assert headers["Content-Security-Policy"].endswith("frame-ancestors 'none'")
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Server"] == "PaperRadar"
        status, headers, _ = _get(base + "default/feed.atom")
        assert headers["Content-Type"].startswith("application/atom+xml")
        assert _get(base + "default/topics/")[0] == 404
        assert _get(base + "../../etc/passwd")[0] == 404
    finally:
        stop_server(server)


@pytest.mark.slow
def test_serving_builds_an_archive_that_was_never_written(
    web_archive: WebArchive, tmp_path: Path
) -> None:
    ctx = _copy_context(web_archive, tmp_path / "fresh", port=0)
    server = web.serve_archive(ctx.archive())
    try:
        status, _, body = _get(f"http://127.0.0.1:{server.server_address[1]}/index.html")
    finally:
        stop_server(server)
    assert status == 200
    assert SECOND_DAY.isoformat().encode() in body


def test_web_rebuild_command_rewrites_the_whole_archive(
    web_archive_of: Callable[[str], WebArchive], tmp_path: Path
) -> None:
    archive = web_archive_of("sqlite")
    settings = archive.ctx.settings
    env = {
        "PAPERRADAR_CONFIG": "",
        "PAPERRADAR_DATA_DIR": str(settings.data_dir),
        "PAPERRADAR_DATABASE_URL": settings.resolved_database_url,
        "PAPERRADAR_PROFILES_DIR": str(settings.profiles_dir),
        "PAPERRADAR_PROMPTS_DIR": str(settings.prompts_dir),
        "PAPERRADAR_MIGRATIONS_DIR": str(settings.migrations_dir),
        "PAPERRADAR_WEB__OUT_DIR": str(tmp_path / "rebuilt"),
    }
    result = CliRunner().invoke(main, ["web", "rebuild"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "web: " in result.output
    for day in (FIRST_DAY, SECOND_DAY):
        assert (tmp_path / "rebuilt" / "default" / f"{day.isoformat()}.html").is_file()
    assert len(list((tmp_path / "rebuilt" / "papers").glob("*.html"))) == len(archive.picked_ids)


def test_a_title_with_control_characters_still_makes_a_valid_atom_feed() -> None:
    profile = Profile.model_validate(
        {"name": "default", "topics": {"x": {"title": "X", "description": "x"}}}
    )
    brief = PaperBrief(
        "2510.00001", "Bell\x07 escape\x1b[31m nul\x00 \u202eevil", ("A. Author",), ""
    )
    pick = PickRow(
        "default",
        "x",
        date(2025, 10, 16),
        1,
        60,
        "why",
        datetime(2025, 10, 16, tzinfo=UTC),
        brief,
        None,
    )
    site = Site("PaperRadar", "https://radar.example.org/", (profile,), False, 20)

    page = render_feed(site, profile, None, [pick])

    root = ElementTree.fromstring(page.data)  # a control character raises ParseError
    titles = [element.text for element in root.iter("{http://www.w3.org/2005/Atom}title")]
    assert "Bell escape nul evil" in " ".join(str(title) for title in titles)
