import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from paperradar.ingest.feeds import parse_feed
from paperradar.ingest.papers import store_announcements
from paperradar.profiles.profile import Profile, load_profile
from paperradar.rank.learned import TITLE_LIMIT, topic_learning, vote_effect
from paperradar.readers.feedback import DOWN, UP, set_feedback
from paperradar.store.db import session_scope

REPO_ROOT = Path(__file__).resolve().parents[2]
DAY = date(2025, 10, 15)
MERGING = ("2509.11167", "2510.13921")
LONG_CONTEXT = "2509.13723"
TOKEN_MERGING = "2509.10918"


@pytest.fixture
def profile() -> Profile:
    return load_profile(REPO_ROOT / "profiles" / "default.yaml")


@pytest.fixture
def stored(engine: Engine, arxiv_fixtures: Path) -> dict[str, dict[str, object]]:
    path = arxiv_fixtures / "corpus" / "corpus_cs_cl_lg_ai_2025-09_2025-10.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    wanted = {*MERGING, LONG_CONTEXT, TOKEN_MERGING}
    chosen = [row for row in rows if row["id"] in wanted] + rows[:30]
    feed = "".join(json.dumps({**row, "date": DAY.isoformat()}) + "\n" for row in chosen)
    with session_scope(engine) as session:
        store_announcements(session, parse_feed(feed.encode("utf-8")).announcements, day=DAY)
    return {str(row["id"]): row for row in chosen}


def vote(engine: Engine, paper: str, topic: str, value: int) -> None:
    with session_scope(engine) as session:
        set_feedback(
            session,
            paper_id=paper,
            profile="default",
            topic=topic,
            value=value,
            channel="cli",
            user_id="tester",
        )


def test_a_like_names_the_paper_and_words_from_it_the_topic_lacked(
    engine: Engine, stored: dict[str, dict[str, object]], profile: Profile
) -> None:
    vote(engine, LONG_CONTEXT, "long_context", UP)
    with session_scope(engine) as session:
        effect = vote_effect(
            session, profile, topic="long_context", paper_id=LONG_CONTEXT, value=UP
        )
    assert effect is not None
    assert (effect.topic, effect.value, effect.liked, effect.disliked) == ("long_context", 1, 1, 0)
    assert effect.topic_title == profile.topics["long_context"].title
    assert len(effect.title) <= TITLE_LIMIT
    text = f"{stored[LONG_CONTEXT]['title']} {stored[LONG_CONTEXT]['abstract']}".lower()
    assert effect.words and all(word in text for word in effect.words)
    query = " ".join(
        [profile.topics["long_context"].description, *profile.topics["long_context"].keywords]
    )
    assert not any(f" {word} " in f" {query.lower()} " for word in effect.words)


def test_unknown_topic_or_paper_gives_nothing(
    engine: Engine, stored: dict[str, dict[str, object]], profile: Profile
) -> None:
    with session_scope(engine) as session:
        assert vote_effect(session, profile, topic="nope", paper_id=LONG_CONTEXT, value=UP) is None
        assert (
            vote_effect(session, profile, topic="long_context", paper_id="2501.0", value=UP) is None
        )


def test_topic_learning_lists_votes_and_weighs_liked_words_up_and_disliked_down(
    engine: Engine, stored: dict[str, dict[str, object]], profile: Profile
) -> None:
    for paper in MERGING:
        vote(engine, paper, "model_merging", UP)
    vote(engine, TOKEN_MERGING, "model_merging", DOWN)
    with session_scope(engine) as session:
        learned = topic_learning(session, profile, "sentence-transformers/all-MiniLM-L6-v2")
    assert [topic.topic for topic in learned] == ["model_merging"]
    merging = learned[0]
    assert len(merging.liked) == 2 and len(merging.disliked) == 1
    token_text = f"{stored[TOKEN_MERGING]['title']} {stored[TOKEN_MERGING]['abstract']}".lower()
    assert merging.less and all(word in token_text for word in merging.less)
    assert not set(merging.more) & set(merging.less)
    assert merging.agreement is None  # one 👎, and no vectors stored


def test_no_votes_no_learning(engine: Engine, profile: Profile) -> None:
    with session_scope(engine) as session:
        assert topic_learning(session, profile, "sentence-transformers/all-MiniLM-L6-v2") == []
