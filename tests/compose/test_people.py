"""People you follow: the day's papers by followed authors, on the real demo day."""

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from support.papers import json_lines

from paperradar.app import App
from paperradar.compose.digests import view_digest
from paperradar.compose.people import follows_of, people_items
from paperradar.ingest.feeds import parse_feed
from paperradar.ingest.papers import store_announcements
from paperradar.profiles.profile import FollowedName, Profile, Topic
from paperradar.readers.follows import add_follow, parse_follow
from paperradar.service import pipeline
from paperradar.settings import ArxivSettings
from paperradar.store.db import session_scope
from paperradar.store.records import DigestItem, Match, Paper

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_FEED = REPO_ROOT / "src" / "paperradar" / "demo" / "cs_cl_lg_ai_2025-10-16.jsonl.gz"
DAY = date(2025, 10, 16)
MIN_ZHANG = ["2510.12899", "2510.13276", "2510.13344", "2510.13363"]


def _profile(*authors: FollowedName) -> Profile:
    topic = Topic(title="Model merging", description="merging trained models into one")
    return Profile(name="people", topics={"model_merging": topic}, authors=list(authors))


@pytest.fixture
def demo_day(engine: Engine) -> Engine:
    with session_scope(engine) as session:
        store_announcements(session, parse_feed(DEMO_FEED.read_bytes()).announcements, day=DAY)
    return engine


def _people(session: Session, profile: Profile) -> dict[str, tuple[str, ...]]:
    items = people_items(session, profile=profile, day=DAY, follows=follows_of(session, profile))
    return {item.paper.arxiv_id: item.followed for item in items}


def test_every_spelling_of_a_followed_name_finds_its_papers(demo_day: Engine) -> None:
    profile = _profile(
        FollowedName(name="Zhang Min"), FollowedName(name="B. Plank"), FollowedName(name="Nobody")
    )
    with session_scope(demo_day) as session:
        found = _people(session, profile)
    assert found == {
        "2510.12817": ("B. Plank",),
        **{paper_id: ("Zhang Min",) for paper_id in MIN_ZHANG},
    }


def test_a_name_that_four_people_share_is_pinned_to_one(demo_day: Engine) -> None:
    profile = _profile(FollowedName(name="Min Zhang", pin="2510.12899"))
    with session_scope(demo_day) as session:
        assert list(_people(session, profile)) == ["2510.12899"]


def test_a_chats_own_follows_join_its_profiles(demo_day: Engine) -> None:
    profile = _profile()
    with session_scope(demo_day) as session:
        add_follow(session, profile="people", followed=parse_follow("Barbara Plank"))
        add_follow(session, profile="people", followed=parse_follow("min zhang 2510.13363"))
    with session_scope(demo_day) as session:
        found = _people(session, profile)
    assert found == {"2510.12817": ("Barbara Plank",), "2510.13363": ("min zhang",)}


@pytest.mark.slow
def test_a_followed_authors_paper_below_every_threshold_is_shown_first(
    context: App, tmp_path: Path
) -> None:
    feed = tmp_path / "small.jsonl"
    feed.write_text(
        "".join(json.dumps(row) + "\n" for row in json_lines(DEMO_FEED)[:60]), encoding="utf-8"
    )
    settings = context.settings.model_copy(update={"arxiv": ArxivSettings(feed_file=feed)})
    app = App(
        settings=settings,
        engine=context.engine,
        profiles=context.profiles,
        embedder=context.embedder,
        llm=None,
    )
    pipeline.run_day(app, DAY, dry_run=True)
    profile = app.profiles[0]
    with session_scope(app.engine) as session:
        scored = set(session.exec(select(Match.paper_id).where(Match.day == DAY)).all())
        picked = set(session.exec(select(DigestItem.paper_id)).all())
        unscored = session.exec(
            select(Paper).where(Paper.first_announced_on == DAY).order_by(Paper.arxiv_id)
        ).all()
        paper = next(paper for paper in unscored if paper.arxiv_id not in scored)
        followed = profile.model_copy(update={"authors": [FollowedName(name=paper.authors[-1])]})
        plain = view_digest(session, profile=profile, day=DAY)
        view = view_digest(session, profile=followed, day=DAY)
    assert plain is not None and view is not None
    assert plain.people == ()
    assert [item.paper.arxiv_id for item in view.people] == [paper.arxiv_id]
    (item,) = view.people
    assert item.match is None and item.picked_under is None
    assert view.pick_count == plain.pick_count + 1 == len(picked) + 1
