from datetime import date

from paperradar.profiles.profile import Profile, Topic
from paperradar.rank.picks import select_picks
from paperradar.store.records import Match

DAY = date(2025, 10, 15)


def _profile(**topic_overrides: int) -> Profile:
    topics = {
        key: Topic(title=key, description=f"{key} papers", **topic_overrides)
        for key in ("model_merging", "long_context")
    }
    return Profile(name="default", topics=topics, seed_papers=[{"id": "2412.03187"}])


def _match(paper_id: str, topic: str, percent: int, *, profile: str = "default") -> Match:
    return Match(
        id=hash((paper_id, topic)) % 10_000,
        paper_id=paper_id,
        profile=profile,
        topic=topic,
        day=DAY,
        score=percent / 100,
        percent=percent,
        reason=f"{topic} evidence",
    )


def test_picks_respect_each_topics_minimum_and_cap() -> None:
    profile = _profile(min_percent=50, max_picks=2)
    matches = [_match(f"2510.0000{i}", "model_merging", 90 - 10 * i) for i in range(5)]
    picks = select_picks(matches, profile)
    assert [pick.match.paper_id for pick in picks] == ["2510.00000", "2510.00001"]
    assert [pick.rank for pick in picks] == [1, 2]


def test_paper_hitting_two_topics_appears_once_under_its_best_topic() -> None:
    profile = _profile(min_percent=40)
    matches = [_match("2510.11111", "model_merging", 55), _match("2510.11111", "long_context", 80)]
    picks = select_picks(matches, profile)
    assert len(picks) == 1
    assert picks[0].topic == "long_context"
    assert [other.topic for other in picks[0].also] == ["model_merging"]


def test_profiles_own_seed_papers_and_other_profiles_matches_are_never_picked() -> None:
    profile = _profile(min_percent=10)
    matches = [
        _match("2412.03187", "model_merging", 99),
        _match("2510.22222", "model_merging", 70, profile="someone_else"),
    ]
    assert select_picks(matches, profile) == []


def test_picks_are_ordered_by_score_within_a_topic() -> None:
    profile = _profile(min_percent=0)
    matches = [_match("2510.00003", "long_context", 41), _match("2510.00004", "long_context", 77)]
    assert [pick.match.paper_id for pick in select_picks(matches, profile)] == [
        "2510.00004",
        "2510.00003",
    ]
