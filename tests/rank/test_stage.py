import json
import re
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from sqlmodel import col, select

from paperradar.app import App
from paperradar.embed.embeddings import Embedder
from paperradar.ingest.feeds import parse_feed
from paperradar.ingest.papers import store_announcements
from paperradar.profiles.profile import ARXIV_ID_PATTERN, Profile, load_profile
from paperradar.rank.calibration import percent_of
from paperradar.rank.index import (
    KEEP_PICKS_FACTOR,
    CandidatePool,
    PaperVector,
    ScoredMatch,
    TopicIndex,
    vector_of,
    worth_keeping,
)
from paperradar.rank.learning import Votes
from paperradar.rank.reasons import MatchReason
from paperradar.readers.feedback import DOWN, set_feedback
from paperradar.service.pipeline import run_stage
from paperradar.store.db import session_scope
from paperradar.store.records import Match
from paperradar.text import paper_text

REPO_ROOT = Path(__file__).resolve().parents[2]
DAY = date(2025, 10, 15)
# Real papers of the corpus: model merging, long context, self-improvement, and a distractor
# that merges tokens (not models); the rest of the sample is whatever the corpus holds.
MERGING = ("2509.11167", "2510.13921", "2510.14697", "2510.14163", "2509.12951")
LONG_CONTEXT = ("2509.13723", "2509.14391", "2510.09883", "2510.12051", "2510.10620")
SELF_IMPROVING = ("2509.15155", "2510.13220", "2510.12273")
TOKEN_MERGING = "2509.10918"
FUSECHAT, BLOCKPRUNER, QWENLONG = "2408.07990", "2406.10594", "2505.17667"
ARXIV_ID = re.compile(ARXIV_ID_PATTERN)


def checkable(stored: str) -> bool:
    """A stored reason is data: phrases and paper ids only, never a number a reader can't check."""
    reason = MatchReason.load(stored)
    return (
        reason is not None
        and all(ARXIV_ID.match(paper) for paper in reason.papers)
        and not re.search(r"\d\.\d\d", " ".join(reason.phrases))
    )


@pytest.fixture(scope="module")
def corpus_rows(arxiv_fixtures: Path) -> list[dict[str, object]]:
    path = arxiv_fixtures / "corpus" / "corpus_cs_cl_lg_ai_2025-09_2025-10.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    wanted = {*MERGING, *LONG_CONTEXT, *SELF_IMPROVING, TOKEN_MERGING}
    chosen = [row for row in rows if row["id"] in wanted]
    return chosen + [row for row in rows if row["id"] not in wanted][:40]


@pytest.fixture(scope="module")
def candidates(corpus_rows: list[dict[str, object]], embedder: Embedder) -> list[PaperVector]:
    texts = [paper_text(str(row["title"]), str(row["abstract"])) for row in corpus_rows]
    vectors = embedder.embed(texts)
    return [
        PaperVector(str(row["id"]), str(row["title"]), str(row["abstract"]), vector)
        for row, vector in zip(corpus_rows, vectors, strict=True)
    ]


@pytest.fixture(scope="module")
def profile() -> Profile:
    return load_profile(REPO_ROOT / "profiles" / "default.yaml")


def inline_seeds(profile: Profile) -> list[PaperVector]:
    return [
        PaperVector(seed.id, seed.title or "", seed.abstract or "")
        for seed in profile.seed_papers
        if seed.has_text
    ]


def build(profile: Profile, candidates: list[PaperVector], embedder: Embedder) -> TopicIndex:
    background = np.stack([paper.vector for paper in candidates if paper.vector is not None])
    return TopicIndex.build(
        profile, seeds=inline_seeds(profile), embed=embedder.embed, background=background
    )


@pytest.fixture(scope="module")
def index(profile: Profile, candidates: list[PaperVector], embedder: Embedder) -> TopicIndex:
    return build(profile, candidates, embedder)


@pytest.fixture(scope="module")
def matches(index: TopicIndex, candidates: list[PaperVector]) -> list[ScoredMatch]:
    return index.match(CandidatePool.of(candidates))


def ranked(matches: list[ScoredMatch], topic: str) -> list[str]:
    return [match.paper_id for match in matches if match.topic == topic]


def test_merging_seed_supports_model_merging_and_not_long_context(index: TopicIndex) -> None:
    assert "model_merging" in index.seed_topics[FUSECHAT]
    assert "long_context" not in index.seed_topics[FUSECHAT]
    assert index.seed_topics[QWENLONG] == ("long_context",)


def test_seed_on_another_subject_supports_no_topic(index: TopicIndex) -> None:
    assert index.seed_topics[BLOCKPRUNER] == ()


def test_seed_topics_in_the_profile_override_routing(
    profile: Profile, candidates: list[PaperVector], embedder: Embedder
) -> None:
    data = profile.model_dump()
    for seed in data["seed_papers"]:
        if seed["id"] == FUSECHAT:
            seed["topics"] = ["long_context"]
        if seed["id"] == QWENLONG:
            seed["topics"] = []
    routed = build(Profile.model_validate(data), candidates, embedder).seed_topics
    assert routed[FUSECHAT] == ("long_context",)
    assert routed[QWENLONG] == ()


def test_without_a_background_seeds_route_by_title_keywords_only(
    profile: Profile, embedder: Embedder
) -> None:
    index = TopicIndex.build(profile, seeds=inline_seeds(profile), embed=embedder.embed)
    assert "model_merging" in index.seed_topics[FUSECHAT]  # "Knowledge Fusion" in its title
    assert index.seed_topics[BLOCKPRUNER] == ()


def test_every_candidate_is_scored_for_every_topic_but_seeds_never(
    index: TopicIndex, candidates: list[PaperVector], profile: Profile
) -> None:
    seed = inline_seeds(profile)[0]
    seed_as_candidate = PaperVector(seed.paper_id, seed.title, seed.abstract, candidates[0].vector)
    scored = index.match(CandidatePool.of([*candidates, seed_as_candidate]))
    for topic in profile.topics:
        assert sorted(ranked(scored, topic)) == sorted(paper.paper_id for paper in candidates)
    assert seed.paper_id not in {match.paper_id for match in scored}


def test_topic_papers_rank_above_the_rest(matches: list[ScoredMatch]) -> None:
    for topic, ids in (("model_merging", MERGING), ("long_context", LONG_CONTEXT)):
        assert set(ranked(matches, topic)[: len(ids)]) == set(ids), topic
    assert set(ranked(matches, "self_evolution")[:5]) >= set(SELF_IMPROVING)


def test_token_merging_is_not_taken_for_model_merging(matches: list[ScoredMatch]) -> None:
    merging = ranked(matches, "model_merging")
    assert merging.index(TOKEN_MERGING) > max(merging.index(paper) for paper in MERGING)


def test_percent_is_within_bounds_and_monotone_in_score(matches: list[ScoredMatch]) -> None:
    assert all(0 <= match.percent <= 100 and 0 <= match.score <= 1 for match in matches)
    by_score = sorted(matches, key=lambda match: match.score)
    percents = [match.percent for match in by_score]
    assert percents == sorted(percents)
    edges = [percent_of(s) for s in (-0.2, 0.0, 0.3, 0.5, 1.0, 1.3)]
    assert edges == sorted(edges) and edges[0] == edges[1] and edges[-2] == edges[-1] <= 100


def test_reason_names_the_closest_anchor_and_the_keywords_found(
    matches: list[ScoredMatch], index: TopicIndex
) -> None:
    assert all(checkable(match.reason) for match in matches), [
        m.reason for m in matches if not checkable(m.reason)
    ][:3]
    top = next(m for m in matches if m.topic == "model_merging")
    top_reason = MatchReason.load(top.reason)
    assert top_reason is not None and "model merging" in top_reason.phrases
    routed = {seed for seed, topics in index.seed_topics.items() if "model_merging" in topics}
    seeds = [MatchReason.load(m.reason) for m in matches if m.topic == "model_merging"]
    assert all(reason.seed in routed for reason in seeds if reason and reason.seed)


def test_scoring_is_deterministic(
    profile: Profile,
    candidates: list[PaperVector],
    embedder: Embedder,
    matches: list[ScoredMatch],
) -> None:
    again = build(profile, list(reversed(candidates)), embedder).match(CandidatePool.of(candidates))
    assert again == matches


def test_topic_with_only_a_description_still_scores(
    candidates: list[PaperVector], embedder: Embedder
) -> None:
    lone = Profile.model_validate(
        {
            "name": "lone",
            "topics": {
                "merging": {"title": "Model merging", "description": "Merging trained models."}
            },
        }
    )
    scored = TopicIndex.build(lone, seeds=[], embed=embedder.embed).match(
        CandidatePool.of(candidates)
    )
    assert len(scored) == len(candidates)
    assert MatchReason.load(scored[0].reason) == MatchReason(phrases=())
    assert scored[0].paper_id in MERGING


def test_worth_keeping_holds_matches_above_the_minimum_up_to_a_cap(
    matches: list[ScoredMatch], profile: Profile
) -> None:
    kept = worth_keeping(matches, profile)
    for key, topic in profile.topics.items():
        mine = [match for match in kept if match.topic == key]
        assert all(match.percent >= topic.min_percent for match in mine)
        assert len(mine) <= KEEP_PICKS_FACTOR * topic.max_picks
    assert kept, "the topic papers of the sample clear the default minimum"


def test_votes_move_a_topics_scores_the_right_way(
    index: TopicIndex, candidates: list[PaperVector], matches: list[ScoredMatch]
) -> None:
    cold = {m.paper_id: m.score for m in matches if m.topic == "model_merging"}
    order = ranked(matches, "model_merging")
    # Votes re-order the topic's own papers (they never lift one it does not match).
    disliked, liked = order[0], order[1]
    paper = {candidate.paper_id: candidate for candidate in candidates}
    voted = [paper[disliked], paper[liked]]
    votes = Votes(
        paper_ids=(disliked, liked),
        titles=tuple(p.title for p in voted),
        abstracts=tuple(p.abstract for p in voted),
        vectors=np.stack([vector_of(p) for p in voted]),
        values=np.array([-1, 1]),
    )
    learned = index.match(CandidatePool.of(candidates), {"model_merging": votes})
    after = {m.paper_id: m for m in learned if m.topic == "model_merging"}
    assert after[disliked].score < cold[disliked]
    assert after[liked].score > cold[liked]
    assert all(0 <= m.score <= 1 and 0 <= m.percent <= 100 for m in learned)
    liked_reason = MatchReason.load(after[liked].reason)
    assert liked_reason is not None and liked_reason.votes == 2 and liked_reason.liked == liked
    others = [m for m in learned if m.topic != "model_merging"]
    assert others == [m for m in matches if m.topic != "model_merging"]


def _store_day(context: App, rows: list[dict[str, object]]) -> None:
    feed = "".join(json.dumps({**row, "date": DAY.isoformat()}) + "\n" for row in rows)
    announcements = parse_feed(feed.encode("utf-8")).announcements
    with session_scope(context.engine) as session:
        store_announcements(session, announcements, day=DAY)
    run_stage(context, "seeds", DAY)
    run_stage(context, "embeddings", DAY)


@pytest.mark.slow
def test_run_writes_matches_once_and_a_rerun_changes_nothing(
    context: App, corpus_rows: list[dict[str, object]]
) -> None:
    _store_day(context, corpus_rows[:30])
    first = run_stage(context, "scoring", DAY)
    assert first.written > 0
    assert first.details == {"default": first.written}
    with session_scope(context.engine) as session:
        stored = session.exec(select(Match)).all()
    assert len({(m.paper_id, m.profile, m.topic) for m in stored}) == len(stored) == first.written
    assert run_stage(context, "scoring", DAY).written == 0
    with session_scope(context.engine) as session:
        assert len(session.exec(select(Match)).all()) == len(stored)


@pytest.mark.slow
def test_run_keeps_what_a_digest_can_use_and_never_a_profiles_own_seed(
    context: App, corpus_rows: list[dict[str, object]], profile: Profile
) -> None:
    seed = next(s for s in profile.seed_papers if s.id == FUSECHAT)
    announced_seed = {
        "id": seed.id,
        "title": seed.title,
        "abstract": seed.abstract,
        "authors": ["A. Author"],
        "categories": ["cs.CL"],
    }
    _store_day(context, [*corpus_rows[:30], announced_seed])
    run_stage(context, "scoring", DAY)
    with session_scope(context.engine) as session:
        stored = session.exec(select(Match)).all()
    assert {m.paper_id for m in stored if m.topic == "model_merging"} >= set(MERGING[:3])
    assert FUSECHAT not in {m.paper_id for m in stored}
    for match in stored:
        assert match.percent >= profile.topics[match.topic].min_percent
        assert match.day == DAY and checkable(match.reason)
    assert len(stored) < 30 * len(profile.topics)


def test_run_on_a_day_without_candidates_writes_nothing(context: App) -> None:
    report = run_stage(context, "scoring", DAY)
    assert report.written == 0 and report.note and "no candidates" in report.note


@pytest.mark.slow
def test_run_learns_from_stored_feedback(
    context: App, corpus_rows: list[dict[str, object]]
) -> None:
    _store_day(context, corpus_rows[:30])
    run_stage(context, "scoring", DAY)
    with session_scope(context.engine) as session:
        top = session.exec(
            select(Match).where(Match.topic == "model_merging").order_by(col(Match.score).desc())
        ).first()
        assert top is not None
        before = top.score
        set_feedback(
            session,
            paper_id=top.paper_id,
            profile="default",
            topic="model_merging",
            value=DOWN,
            channel="cli",
            user_id="tester",
        )
    assert run_stage(context, "scoring", DAY).written > 0
    with session_scope(context.engine) as session:
        stored = session.exec(select(Match).where(Match.topic == "model_merging")).all()
    voted = next(m for m in stored if m.paper_id == top.paper_id)
    assert voted.score < before
    assert all((MatchReason.load(m.reason) or MatchReason()).votes == 1 for m in stored)
