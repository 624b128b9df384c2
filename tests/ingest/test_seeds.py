import dataclasses
import logging
from datetime import date
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlmodel import Session, select
from support.arxiv_server import API_PATH, api_settings, load_cassette, serve_api, with_arxiv

from paperradar.app import App
from paperradar.ingest import seeds
from paperradar.ingest.feeds import collapse
from paperradar.ingest.papers import store_announcements
from paperradar.profiles.profile import Profile, SeedPaper, Topic
from paperradar.service.pipeline import run_stage
from paperradar.store.records import Paper
from paperradar.store.states import AnnounceType

DAY = date(2025, 10, 15)


def stored_papers(context: App) -> dict[str, Paper]:
    with Session(context.engine) as session:
        return {paper.arxiv_id: paper for paper in session.exec(select(Paper)).all()}


def with_seeds(context: App, *seed_papers: SeedPaper) -> App:
    topic = Topic(title="Long context", description="Long-context language models.")
    profile = Profile(name="extra", topics={"long_context": topic}, seed_papers=list(seed_papers))
    return dataclasses.replace(context, profiles=(*context.profiles, profile))


def test_default_profile_seeds_are_stored_offline_as_non_candidates(
    context: App, httpserver: HTTPServer
) -> None:
    ctx = with_arxiv(context, api_settings(httpserver))  # any request would show in the log
    (profile,) = context.profiles
    report = run_stage(ctx, "seeds", DAY)
    assert report.written == 15
    assert report.note is None
    papers = stored_papers(context)
    assert set(papers) == profile.seed_ids
    for seed in profile.seed_papers:
        paper = papers[seed.id]
        assert paper.title == collapse(seed.title or "")
        assert paper.abstract == collapse(seed.abstract or "")
        assert paper.first_announced_on is None
        assert paper.announce_type is None
    assert httpserver.log == []
    assert run_stage(ctx, "seeds", DAY).written == 0
    assert stored_papers(context).keys() == papers.keys()


def test_seed_without_text_is_looked_up_once(
    arxiv_fixtures: Path, context: App, httpserver: HTTPServer
) -> None:
    cassette = load_cassette(
        arxiv_fixtures / "api" / "idlist_2104.12255v1_title_is_0.cassette.json"
    )
    serve_api(httpserver, cassette)
    ctx = with_arxiv(with_seeds(context, SeedPaper(id="2104.12255")), api_settings(httpserver))
    report = run_stage(ctx, "seeds", DAY)
    assert report.written == 16
    assert report.details["looked_up"] == 1
    paper = stored_papers(context)["2104.12255"]
    assert (paper.title, paper.first_announced_on) == ("0", None)
    assert run_stage(ctx, "seeds", DAY).written == 0
    assert len(httpserver.log) == 1


def test_unavailable_arxiv_is_reported_and_the_other_seeds_are_stored(
    context: App, httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    httpserver.expect_request(API_PATH).respond_with_data("down", status=503)
    ctx = with_arxiv(with_seeds(context, SeedPaper(id="2104.12255")), api_settings(httpserver))
    with caplog.at_level(logging.WARNING, logger="paperradar.ingest.seeds"):
        report = run_stage(ctx, "seeds", DAY)
    assert report.written == 15
    assert report.note is not None
    assert "1 seed paper(s) without inline text could not be looked up" in report.note
    assert "HTTP 503" in caplog.text
    assert "2104.12255" not in stored_papers(context)


def test_a_seeds_inline_text_never_overwrites_a_stored_paper(context: App) -> None:
    (profile,) = context.profiles
    seed = profile.seed_papers[0]
    announced = dataclasses.replace(
        seeds.inline_announcement(seed, DAY),
        version=2,
        announce_type=AnnounceType.REPLACE,
        abstract=collapse(seed.abstract or "").split(". ")[0] + ".",
    )
    with Session(context.engine) as session:
        store_announcements(session, [announced], day=DAY)
        session.commit()
    report = run_stage(context, "seeds", DAY)
    assert report.written == 14
    assert report.details["already_stored"] == 1
    paper = stored_papers(context)[seed.id]
    assert (paper.version, paper.abstract) == (2, announced.abstract)
