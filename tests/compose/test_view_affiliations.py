"""Affiliations a source states reach the digest view: one place every renderer reads them."""

from datetime import date
from pathlib import Path

from pytest_httpserver import HTTPServer
from sqlalchemy import Engine
from sqlmodel import Session
from support.arxiv_server import api_settings, load_cassette, serve_api

from paperradar.compose.digests import compose_digest, view_digest
from paperradar.ingest import arxiv_api
from paperradar.profiles.profile import Profile, Topic
from paperradar.store.records import Match

DAY = date(2006, 1, 2)
PAPER = "astro-ph/0601001"
PROFILE = Profile(name="sky", topics={"planets": Topic(title="Planets", description="exoplanets")})


def test_affiliations_a_backfill_stored_are_in_the_digest_view_once_each_in_author_order(
    arxiv_fixtures: Path, httpserver: HTTPServer, engine: Engine
) -> None:
    # A real API response: four authors, two of them at Ohio State, each <arxiv:affiliation>.
    cassette = arxiv_fixtures / "api" / "idlist_old_style_astro-ph_0601001.cassette.json"
    serve_api(httpserver, load_cassette(cassette))
    arxiv_api.backfill(engine, api_settings(httpserver), DAY, DAY)
    with Session(engine) as session:
        session.add(
            Match(
                paper_id=PAPER,
                profile="sky",
                topic="planets",
                day=DAY,
                score=0.9,
                percent=90,
                reason="test",
            )
        )
        compose_digest(session, profile=PROFILE, day=DAY)
        session.commit()
        view = view_digest(session, profile=PROFILE, day=DAY)

    assert view is not None
    ((item,),) = (section.items for section in view.sections)
    assert item.paper.arxiv_id == PAPER
    assert item.affiliations == ("Ohio State", "CfA", "Warsaw University Observatory")
