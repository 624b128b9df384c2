import numpy as np
import pytest

from paperradar.rank.index import ScoredMatch
from paperradar.rank.learning import (
    MAX_WEIGHT,
    TopicModel,
    Votes,
    fit_topic_model,
    suggest_votes,
    uncertain_papers,
)

DIMENSION = 16


def unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.fixture
def space() -> dict[str, np.ndarray]:
    """Three directions: the topic's anchors, a liked cluster, a disliked cluster; and noise."""
    rng = np.random.default_rng(7)
    axes = np.eye(DIMENSION)
    near = lambda axis, n: unit(axes[axis] + 0.15 * rng.normal(size=(n, DIMENSION)))  # noqa: E731
    return {
        "anchors": near(0, 3),
        "liked": near(1, 4),
        "disliked": near(2, 4),
        "candidates": unit(rng.normal(size=(200, DIMENSION))),
        "like_probe": near(1, 5),
        "dislike_probe": near(2, 5),
        "anchor_probe": near(0, 5),
    }


def votes_of(liked: np.ndarray, disliked: np.ndarray) -> Votes:
    ids = tuple(f"2601.{i:05d}" for i in range(len(liked) + len(disliked)))
    values = np.array([1] * len(liked) + [-1] * len(disliked))
    return Votes(paper_ids=ids, vectors=np.vstack([liked, disliked]), values=values)


def fit(space: dict[str, np.ndarray], votes: Votes) -> TopicModel:
    model = fit_topic_model(votes, anchors=space["anchors"], candidates=space["candidates"])
    assert model is not None
    return model


def test_no_votes_means_no_model(space: dict[str, np.ndarray]) -> None:
    empty = Votes((), np.zeros((0, DIMENSION)), np.zeros(0))
    assert fit_topic_model(empty, anchors=space["anchors"], candidates=space["candidates"]) is None


def test_a_like_raises_and_a_dislike_lowers_similar_papers(space: dict[str, np.ndarray]) -> None:
    liked, disliked, none = space["liked"], space["disliked"], space["liked"][:0]
    both = fit(space, votes_of(liked, disliked))
    likes_only = fit(space, votes_of(liked, none))
    dislikes_only = fit(space, votes_of(none, disliked))
    like_probe, dislike_probe = space["like_probe"], space["dislike_probe"]
    assert (both.probability(like_probe) > dislikes_only.probability(like_probe)).all()
    assert (both.probability(dislike_probe) < likes_only.probability(dislike_probe)).all()
    cold = np.full(5, 0.4)
    assert (both.blend(cold, like_probe) > cold).all()
    assert (both.blend(cold, like_probe) > both.blend(cold, dislike_probe)).all()


def test_the_profile_text_is_never_forgotten(space: dict[str, np.ndarray]) -> None:
    # Every vote is a dislike, yet papers like the topic's anchors still beat the disliked ones.
    model = fit(space, votes_of(space["liked"][:0], space["disliked"]))
    anchor_like = model.probability(space["anchor_probe"])
    disliked_like = model.probability(space["dislike_probe"])
    assert anchor_like.min() > disliked_like.max()


def test_blended_scores_stay_within_bounds_and_the_weight_grows_with_votes(
    space: dict[str, np.ndarray],
) -> None:
    few = fit(space, votes_of(space["liked"][:1], space["disliked"][:1]))
    many = fit(space, votes_of(space["liked"], space["disliked"]))
    assert 0 < few.weight < many.weight < MAX_WEIGHT
    for cold in (np.zeros(5), np.ones(5)):
        mixed = many.blend(cold, space["like_probe"])
        assert ((mixed >= 0) & (mixed <= 1)).all()


def test_a_like_gives_the_classifier_more_say_than_a_run_of_dislikes(
    space: dict[str, np.ndarray],
) -> None:
    # 👎 fall mostly on a topic's own top picks; twenty of them must not outweigh one 👍.
    none = space["liked"][:0]
    one_like = fit(space, votes_of(space["liked"][:1], none))
    dislikes = fit(space, votes_of(none, np.repeat(space["disliked"], 5, axis=0)))
    assert one_like.weight > dislikes.weight > 0


def test_learning_ignores_the_order_of_the_candidates(space: dict[str, np.ndarray]) -> None:
    votes = votes_of(space["liked"], space["disliked"])
    forward = fit(space, votes).probability(space["like_probe"])
    reordered = {**space, "candidates": space["candidates"][::-1].copy()}
    assert np.allclose(fit(reordered, votes).probability(space["like_probe"]), forward)


def test_uncertain_papers_are_those_closest_to_the_threshold() -> None:
    ids = ["a", "b", "c", "d", "e"]
    scores = np.array([0.9, 0.41, 0.1, 0.38, 0.45])
    assert uncertain_papers(ids, scores, threshold=0.4, count=3) == ["b", "d", "e"]
    assert uncertain_papers(ids, scores, threshold=0.4, count=0) == []


def test_suggestions_are_per_topic_and_only_for_known_topics() -> None:
    matches = [
        ScoredMatch("p1", "merging", 0.8, 80, ""),
        ScoredMatch("p2", "merging", 0.42, 42, ""),
        ScoredMatch("p3", "merging", 0.05, 5, ""),
        ScoredMatch("p1", "memory", 0.31, 31, ""),
        ScoredMatch("p2", "other", 0.5, 50, ""),
    ]
    suggested = suggest_votes(matches, {"merging": 0.4, "memory": 0.3}, count=1)
    assert suggested == {"merging": ["p2"], "memory": ["p1"]}
