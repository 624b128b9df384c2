import socket
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError
from pytest_httpserver import HTTPServer
from sqlmodel import Session, select
from support.arxiv_server import (
    API_PATH,
    Cassette,
    api_requests,
    api_settings,
    load_cassette,
    serve_api,
    with_arxiv,
)

from paperradar.app import App
from paperradar.errors import ConfigError, FeedError, SourceUnavailableError
from paperradar.ingest import arxiv_api, feeds, papers
from paperradar.settings import ArxivSettings, load_settings
from paperradar.store.records import FeedDay, Paper
from paperradar.store.states import AnnounceType, DayStatus


def cassette(arxiv_fixtures: Path, stem: str) -> Cassette:
    return load_cassette(arxiv_fixtures / "api" / f"{stem}.cassette.json")


def test_lookup_by_ids_returns_the_papers_arxiv_knows(
    arxiv_fixtures: Path, httpserver: HTTPServer
) -> None:
    serve_api(httpserver, cassette(arxiv_fixtures, "idlist_0808.05394_1707.08567_one_missing"))
    found = arxiv_api.lookup(api_settings(httpserver), ["0808.05394", "1707.08567"])
    assert [announcement.arxiv_id for announcement in found] == ["1707.08567"]
    (request,) = api_requests(httpserver)
    assert request["id_list"] == "0808.05394,1707.08567"
    assert request["max_results"] == "100"


def test_lookup_keeps_a_title_of_zero_and_old_style_ids(
    arxiv_fixtures: Path, httpserver: HTTPServer
) -> None:
    serve_api(httpserver, cassette(arxiv_fixtures, "idlist_2104.12255v1_title_is_0"))
    (paper,) = arxiv_api.lookup(api_settings(httpserver), ["2104.12255v1"])
    assert (paper.arxiv_id, paper.version, paper.title) == ("2104.12255", 1, "0")
    assert paper.announced_on == date(2021, 4, 20)
    httpserver.clear()
    serve_api(httpserver, cassette(arxiv_fixtures, "idlist_old_style_astro-ph_0601001"))
    (old,) = arxiv_api.lookup(api_settings(httpserver), ["astro-ph/0601001"])
    assert old.arxiv_id == "astro-ph/0601001"
    assert old.journal_ref == "ActaAstron.56:1-50,2006"
    # <arxiv:affiliation> per author, through the `arxiv` client's Author.affiliation.
    assert old.affiliations == ("Ohio State", "CfA", "Warsaw University Observatory")


def test_lookup_follows_pages(arxiv_fixtures: Path, httpserver: HTTPServer) -> None:
    pages = [
        cassette(arxiv_fixtures, "query_all-testing_start0_max10"),
        cassette(arxiv_fixtures, "query_all-testing_start10_max10"),
    ]
    ids = [
        announcement.arxiv_id
        for page in pages
        for announcement in feeds.parse_feed(page.body.encode()).announcements
    ]
    serve_api(httpserver, *pages)
    found = arxiv_api.lookup(api_settings(httpserver, api_page_size=10), ids)
    assert [announcement.arxiv_id for announcement in found] == ids
    assert [(r["start"], r["max_results"]) for r in api_requests(httpserver)] == [
        ("0", "10"),
        ("10", "10"),
    ]


def test_lookup_of_a_rejected_request_raises_feed_error(
    arxiv_fixtures: Path, httpserver: HTTPServer
) -> None:
    serve_api(httpserver, cassette(arxiv_fixtures, "error_400_incorrect_id_format_abc"))
    with pytest.raises(FeedError, match=r"rejected the request \(HTTP 400\)"):
        arxiv_api.lookup(api_settings(httpserver), ["2104.12255"])


def test_lookup_refuses_malformed_ids_before_asking_arxiv(httpserver: HTTPServer) -> None:
    with pytest.raises(FeedError, match="not arXiv ids: abc"):
        arxiv_api.lookup(api_settings(httpserver), ["abc"])
    assert httpserver.log == []


def test_lookup_with_an_empty_result_returns_nothing(
    arxiv_fixtures: Path, httpserver: HTTPServer
) -> None:
    serve_api(httpserver, cassette(arxiv_fixtures, "empty_result_id_0000.0000"))
    assert arxiv_api.lookup(api_settings(httpserver), ["0000.0000"]) == []


def test_server_errors_become_source_unavailable_after_the_client_retries(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request(API_PATH).respond_with_data("busy", status=503)
    with pytest.raises(SourceUnavailableError, match="HTTP 503 after 2 retries"):
        arxiv_api.lookup(api_settings(httpserver, api_num_retries=2), ["2104.12255"])
    assert len(httpserver.log) == 3


def test_unreachable_api_becomes_source_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = ArxivSettings(
        api_url=f"http://127.0.0.1:{port}/api/query", api_delay_seconds=0, api_num_retries=0
    )
    with pytest.raises(SourceUnavailableError, match="unreachable"):
        arxiv_api.lookup(settings, ["2104.12255"])


def test_search_range_asks_for_the_categories_by_submission_date(
    arxiv_fixtures: Path, httpserver: HTTPServer
) -> None:
    serve_api(httpserver, cassette(arxiv_fixtures, "empty_result_id_0000.0000"))
    settings = api_settings(httpserver)
    assert list(arxiv_api.search_range(settings, date(2025, 10, 15), date(2025, 10, 17))) == []
    (request,) = api_requests(httpserver)
    assert request["search_query"] == (
        "(cat:cs.CL OR cat:cs.LG OR cat:cs.AI) AND submittedDate:[202510150000 TO 202510172359]"
    )
    assert (request["sortBy"], request["sortOrder"]) == ("submittedDate", "ascending")


def test_backfill_stores_each_day_of_the_range(
    arxiv_fixtures: Path, httpserver: HTTPServer, context: App
) -> None:
    serve_api(httpserver, cassette(arxiv_fixtures, "idlist_2104.12255v1_title_is_0"))
    ctx = with_arxiv(context, api_settings(httpserver))
    reports = arxiv_api.backfill(
        ctx.engine, ctx.settings.arxiv, date(2021, 4, 19), date(2021, 4, 21)
    )
    assert [report.note for report in reports] == [
        "no arXiv announcement on 2021-04-19",
        None,
        "no arXiv announcement on 2021-04-21",
    ]
    with Session(context.engine) as session:
        days = {row.day: row for row in session.exec(select(FeedDay)).all()}
        paper = session.get(Paper, "2104.12255")
    assert {day: row.status for day, row in days.items()} == {
        date(2021, 4, 19): DayStatus.NO_ANNOUNCEMENT,
        date(2021, 4, 20): DayStatus.ANNOUNCED,
        date(2021, 4, 21): DayStatus.NO_ANNOUNCEMENT,
    }
    assert {row.source for row in days.values()} == {"api"}
    assert days[date(2021, 4, 20)].cross_count == 1  # cs.CR primary: a cross-list for cs.*
    assert paper is not None
    assert paper.first_announced_on == date(2021, 4, 20)
    assert paper.announce_type is AnnounceType.CROSS
    again = arxiv_api.backfill(ctx.engine, ctx.settings.arxiv, date(2021, 4, 19), date(2021, 4, 21))
    assert [report.written for report in again] == [0, 0, 0]


def test_backfill_keeps_the_day_the_rss_feed_recorded(
    arxiv_fixtures: Path, httpserver: HTTPServer, context: App
) -> None:
    serve_api(httpserver, cassette(arxiv_fixtures, "idlist_2104.12255v1_title_is_0"))
    ctx = with_arxiv(context, api_settings(httpserver))
    rss_day = feeds.parse_feed(
        (arxiv_fixtures / "rss" / "trimmed_cs.CL_2026-04-27_3items.xml").read_bytes()
    )
    with Session(context.engine) as session:
        papers.store_day(
            session, date(2021, 4, 20), rss_day.announcements, source="rss", raw_path=None
        )
        session.commit()
    arxiv_api.backfill(ctx.engine, ctx.settings.arxiv, date(2021, 4, 20), date(2021, 4, 20))
    with Session(context.engine) as session:
        row = session.get(FeedDay, date(2021, 4, 20))
    assert row is not None
    assert (row.source, row.new_count) == ("rss", 3)


def test_api_delay_below_three_seconds_is_refused_for_arxiv() -> None:
    with pytest.raises(ValidationError, match="one API request every 3 seconds"):
        ArxivSettings(api_delay_seconds=1)
    with pytest.raises(ValidationError, match="API_DELAY_SECONDS"):
        ArxivSettings(api_url="https://export.arxiv.org/api/query", api_delay_seconds=0)
    with pytest.raises(ConfigError, match=r"arxiv: .*every 3 seconds"):
        load_settings(arxiv={"api_delay_seconds": 0.5})
    assert ArxivSettings(api_url="http://127.0.0.1:8080/api/query", api_delay_seconds=0)
    assert ArxivSettings(api_url="http://localhost/api/query", api_delay_seconds=0)


def test_client_points_at_the_configured_api_url() -> None:
    settings = ArxivSettings(api_url="http://127.0.0.1:9/api/query", api_delay_seconds=0)
    client = arxiv_api.build_client(settings)
    assert client.query_url_format == "http://127.0.0.1:9/api/query?{}"
    assert (client.delay_seconds, client.num_retries, client.page_size) == (0, 3, 100)
