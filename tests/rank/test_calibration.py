import pytest

from paperradar.rank.calibration import parse_calibration, shipped_calibration


def test_the_map_interpolates_between_points_and_clamps_beyond_them() -> None:
    calibration = parse_calibration('{"points": [[0.5, 0.6], [0.1, 0.0], [0.3, 0.2]]}')
    assert [calibration.percent(s) for s in (-1.0, 0.1, 0.2, 0.3, 0.4, 0.5, 2.0)] == [
        0,
        0,
        10,
        20,
        40,
        60,
        60,
    ]


def test_chances_never_fall_as_the_score_rises_and_stay_within_bounds() -> None:
    calibration = parse_calibration('{"points": [[0, -0.2], [0.4, 0.5], [0.6, 0.3], [1, 1.5]]}')
    assert calibration.chances == (0.0, 0.5, 0.5, 1.0)


def test_a_file_with_fewer_than_two_points_is_refused() -> None:
    with pytest.raises(ValueError, match="two points"):
        parse_calibration('{"points": [[0.5, 0.5]]}')


def test_the_shipped_calibration_is_monotone_and_spans_the_scores() -> None:
    calibration = shipped_calibration()
    percents = [calibration.percent(s / 100) for s in range(101)]
    assert percents == sorted(percents)
    assert calibration.scores[0] <= 0.0 and calibration.scores[-1] >= 1.0


def test_score_at_inverts_the_map() -> None:
    calibration = parse_calibration('{"points": [[0.1, 0.0], [0.3, 0.2], [0.5, 0.6]]}')
    assert calibration.score_at(40) == pytest.approx(0.4)
    assert calibration.percent(calibration.score_at(40)) == 40
