import numpy as np
import pytest

from paperradar.rank.calibration import shipped_calibration
from paperradar.rank.index import ScoredMatch
from paperradar.rank.learning import (
    DISLIKED_PUSH,
    MAX_SHIFT,
    NONE_BELOW_PERCENT,
    Scored,
    TopicModel,
    Votes,
    fit_topic_model,
    suggest_votes,
    uncertain_papers,
    vote_agreement,
)

DIMENSION = 16
EVIDENCE = 5
SLOPE = 20.0


def unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.fixture
def space() -> dict[str, np.ndarray]:
    """Two directions of one topic's papers, one the reader likes and one they do not."""
    rng = np.random.default_rng(7)
    axes = np.eye(DIMENSION)
    near = lambda axis, n: unit(axes[axis] + 0.15 * rng.normal(size=(n, DIMENSION)))  # noqa: E731
    return {
        "liked": near(1, 12),
        "disliked": near(2, 12),
        "like_probe": near(1, 5),
        "dislike_probe": near(2, 5),
        "elsewhere": near(3, 5),
    }


def scored(vectors: np.ndarray, score: float = 0.5) -> Scored:
    """Papers the cold scorer rates alike: the votes alone tell them apart."""
    n = len(vectors)
    return Scored(score=np.full(n, score), vectors=vectors, evidence=np.full((n, EVIDENCE), score))


def votes_of(liked: np.ndarray, disliked: np.ndarray) -> Votes:
    n = len(liked) + len(disliked)
    ids = tuple(f"2601.{i:05d}" for i in range(n))
    values = np.array([1] * len(liked) + [-1] * len(disliked))
    return Votes(ids, ("t",) * n, ("a",) * n, np.vstack([liked, disliked]), values)


def fit(votes: Votes) -> TopicModel:
    model = fit_topic_model(votes, scored(votes.vectors), slope=SLOPE)
    assert model is not None
    return model


def test_no_votes_means_no_model() -> None:
    empty = Votes((), (), (), np.zeros((0, DIMENSION)), np.zeros(0))
    assert fit_topic_model(empty, scored(empty.vectors), slope=SLOPE) is None


def test_likes_and_dislikes_move_similar_papers_up_and_down(space: dict[str, np.ndarray]) -> None:
    model = fit(votes_of(space["liked"][:4], space["disliked"][:4]))
    assert (model.shift(scored(space["like_probe"])) > 0).all()
    assert (model.shift(scored(space["dislike_probe"])) < 0).all()
    cold = scored(space["like_probe"])
    assert (model.apply(cold, shipped_calibration()) > cold.score).all()


def test_votes_never_lift_a_paper_the_topic_does_not_match(space: dict[str, np.ndarray]) -> None:
    # The shift was learned on papers near the bar; far below it, it does not apply.
    calibration = shipped_calibration()
    model = fit(votes_of(space["liked"][:4], space["disliked"][:4]))
    below = scored(space["like_probe"], calibration.score_at(NONE_BELOW_PERCENT) - 0.01)
    assert (model.apply(below, calibration) == below.score).all()
    bar = scored(space["like_probe"], calibration.score_at(30))
    assert (model.apply(bar, calibration) > bar.score).all()


def test_dislikes_alone_push_down_only_papers_close_to_a_disliked_one(
    space: dict[str, np.ndarray],
) -> None:
    # No 👍 yet: nothing to regress on, but "fewer like this" still holds.
    model = fit(votes_of(space["liked"][:0], space["disliked"][:3]))
    assert model.weights is None
    on_itself = model.shift(scored(space["disliked"][:1]))
    assert on_itself[0] == pytest.approx(-DISLIKED_PUSH)
    assert (model.shift(scored(space["dislike_probe"])) < 0).all()
    assert (model.shift(scored(space["elsewhere"])) == 0).all()


def test_likes_alone_change_no_score_here(space: dict[str, np.ndarray]) -> None:
    # A 👍 works as a seed of its topic (readers/topics.py), not through this model.
    model = fit(votes_of(space["liked"][:3], space["disliked"][:0]))
    assert (model.shift(scored(space["like_probe"])) == 0).all()


def test_a_taste_the_votes_share_is_learned_and_one_they_do_not_is_not(
    space: dict[str, np.ndarray],
) -> None:
    # The same twelve papers of one direction, split by the reader's taste (the other direction's
    # papers disliked) or by a coin: only the first split is a taste the text shows.
    agreeing = fit(votes_of(space["liked"][:6], space["disliked"][:6]))
    mixed = np.vstack([space["liked"][:6], space["disliked"][:6]])[
        np.random.default_rng(5).permutation(12)
    ]
    coin = fit(votes_of(mixed[:6], mixed[6:]))

    assert (
        vote_agreement(
            votes_of(space["liked"][:6], space["disliked"][:6]).vectors,
            np.array([1] * 6 + [-1] * 6),
        )
        == 1.0
    )
    assert vote_agreement(mixed, np.array([1] * 6 + [-1] * 6)) < 0.25
    assert vote_agreement(mixed[:3], np.array([1, -1, -1])) is None
    strength = lambda model: float(np.linalg.norm(model.means))  # noqa: E731
    assert strength(agreeing) > 0.9
    assert strength(coin) < 0.25 * strength(agreeing)
    probe = scored(space["like_probe"])
    assert agreeing.shift(probe).mean() > 2 * abs(coin.shift(probe).mean())


def test_one_vote_of_a_kind_is_no_taste_yet(space: dict[str, np.ndarray]) -> None:
    # Left out of its own kind's mean, a lone 👍 would have nothing to be compared with.
    model = fit(votes_of(space["liked"][:1], space["disliked"][:5]))
    assert model.weights is not None
    assert not model.means.any()


def test_the_shift_grows_with_the_votes_and_stays_bounded(space: dict[str, np.ndarray]) -> None:
    few = fit(votes_of(space["liked"][:1], space["disliked"][:1]))
    many = fit(votes_of(space["liked"], space["disliked"]))
    probe = scored(space["like_probe"])
    assert 0 < few.shift(probe).mean() < many.shift(probe).mean() <= MAX_SHIFT
    for cold in (0.0, 1.0):
        learned = many.apply(scored(space["like_probe"], cold), shipped_calibration())
        assert ((learned >= 0) & (learned <= 1)).all()


def test_votes_reorder_a_topic_rather_than_move_all_its_percents(
    space: dict[str, np.ndarray],
) -> None:
    # Centred on the voted papers: those liked go up as much as those disliked go down,
    # leaving aside the push that a disliked paper's neighbours get.
    model = fit(votes_of(space["liked"][:6], space["disliked"][:6]))
    voted = scored(np.vstack([space["liked"][:6], space["disliked"][:6]]))
    assert model.regression(voted).mean() == pytest.approx(0.0, abs=1e-9)


def test_the_cold_score_is_an_offset_what_it_already_says_is_not_learned_again() -> None:
    # The liked paper already scores far higher cold: the votes teach little beyond that.
    rng = np.random.default_rng(3)
    vectors = unit(rng.normal(size=(2, DIMENSION)))
    votes = Votes(("a", "b"), ("t", "t"), ("x", "x"), vectors, np.array([1, -1]))
    explained = Scored(np.array([0.9, 0.1]), vectors, np.zeros((2, EVIDENCE)))
    unexplained = Scored(np.array([0.5, 0.5]), vectors, np.zeros((2, EVIDENCE)))
    gap = lambda model: float(np.diff(model.shift(scored(vectors)))[0])  # noqa: E731
    with_offset = fit_topic_model(votes, explained, slope=SLOPE)
    without = fit_topic_model(votes, unexplained, slope=SLOPE)
    assert with_offset is not None and without is not None
    assert -gap(without) > -gap(with_offset) >= 0


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
