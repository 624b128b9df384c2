"""`paperradar authors backfill` against the real `au:del_maestro` API response on loopback."""

from datetime import date
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlmodel import select
from support.arxiv_server import Cassette, api_requests, api_settings, serve_api

from paperradar.app import App
from paperradar.errors import FeedError
from paperradar.ingest.author_backfill import backfill_author
from paperradar.store.db import session_scope
from paperradar.store.records import Paper

TODAY = date(2026, 12, 5)


@pytest.fixture
def del_maestro(arxiv_fixtures: Path, httpserver: HTTPServer) -> HTTPServer:
    body = (arxiv_fixtures / "api" / "legacy2016_query_au-del_maestro_max10.atom.xml").read_text(
        encoding="utf-8"
    )
    serve_api(httpserver, Cassette(url="http://x/api/query?start=0", status=200, body=body))
    return httpserver


def test_backfill_stores_the_authors_papers_since_the_day_and_no_candidates(
    context: App, del_maestro: HTTPServer
) -> None:
    settings = api_settings(del_maestro)
    found = backfill_author(
        context.engine, settings, "A. Del Maestro", since=date(2010, 1, 1), until=TODAY, limit=10
    )
    assert (found.found, found.stored, found.other_names) == (5, 5, 0)
    (query,) = api_requests(del_maestro)
    assert query["search_query"] == (
        'au:"A. Del Maestro" AND submittedDate:[201001010000 TO 202612052359]'
    )
    assert query["sortOrder"] == "descending"
    with session_scope(context.engine) as session:
        stored = session.exec(select(Paper).order_by(Paper.arxiv_id)).all()
    assert [paper.arxiv_id for paper in stored] == [
        "1005.5383",
        "1201.4869",
        "1303.6954",
        "1312.6177",
        "1412.6529",
    ]
    assert {paper.first_announced_on for paper in stored} == {None}
    again = backfill_author(
        context.engine, settings, "A. Del Maestro", since=date(2010, 1, 1), until=TODAY, limit=10
    )
    assert again.stored == 0


def test_a_full_name_keeps_only_the_papers_that_spell_it_out(
    context: App, del_maestro: HTTPServer
) -> None:
    found = backfill_author(
        context.engine,
        api_settings(del_maestro),
        "Adrian Del Maestro",
        since=date(2000, 1, 1),
        until=TODAY,
        limit=10,
    )
    assert (found.found, found.other_names) == (6, 4)
    assert found.line("Adrian Del Maestro", date(2000, 1, 1)) == (
        "Adrian Del Maestro: 6 paper(s) since 2000-01-01 on arXiv, 6 new or updated here; "
        "4 by other names left out"
    )


def test_a_surname_alone_is_refused_before_asking_arxiv(
    context: App, httpserver: HTTPServer
) -> None:
    with pytest.raises(FeedError, match="first name or initial"):
        backfill_author(
            context.engine, api_settings(httpserver), "Maestro", since=TODAY, until=TODAY
        )
    assert api_requests(httpserver) == []
