"""Name matching on author strings as arXiv lists them (the shipped demo days, the API fixture)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from paperradar.readers.authors import (
    Fit,
    Name,
    fit,
    fold,
    identities,
    is_by,
    parse_name,
)

DEMO = Path(__file__).resolve().parents[2] / "src" / "paperradar" / "demo"


def name(text: str) -> Name:
    parsed = parse_name(text)
    assert parsed is not None, text
    return parsed


def demo_papers() -> list[tuple[str, list[str]]]:
    papers = []
    for path in sorted(DEMO.glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            papers += [(row["id"], row["authors"]) for row in map(json.loads, handle)]
    return papers


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Jun-Yan Zhu", "junyan-zhu"),
        ("Zhu, Jun-Yan", "junyan-zhu"),
        ("Adrian Del Maestro", "adrian-del-maestro"),
        ("au:del_maestro_a", "a-del-maestro"),
        ("Ondřej Dušek", "ondrej-dusek"),
        ("Ole-Christian Galbo Engstrøm", "olechristian-galbo-engstrom"),
        ("Haitz Sáez de Ocáriz Borde", "haitz-saez-de-ocariz-borde"),
        ("Md. Azizul Hakim", "azizul-hakim"),
        ("Kenneth M. Merz,", "kenneth-m-merz"),
        ("Santosh T. Y. S. S", "santosh-t-y-s-s"),
    ],
)
def test_names_fold_to_one_key(text: str, key: str) -> None:
    assert name(text).key == key


def test_text_without_letters_is_no_name() -> None:
    assert parse_name(" .,- ") is None
    assert parse_name("") is None


def test_folding_takes_accents_and_special_letters_apart() -> None:
    assert fold("Björn Lindström") == "bjorn lindstrom"
    assert fold("Łukasz Kaiser") == "lukasz kaiser"
    assert fold("Großmann") == "grossmann"


@pytest.mark.parametrize(
    ("wanted", "listed", "expected"),
    [
        ("Nicolo Michelusi", "Nicolò Michelusi", Fit.FULL),
        ("nicolò michelusi", "Nicolò Michelusi", Fit.FULL),
        ("Jun-Yan Zhu", "Junyan Zhu", Fit.FULL),
        ("Jun Yan Zhu", "Jun-Yan Zhu", Fit.FULL),
        ("Ming-Hsuan Yang", "Minghsuan Yang", Fit.FULL),
        ("Zhang Min", "Min Zhang", Fit.SWAPPED),
        ("A. Del Maestro", "Adrian Del Maestro", Fit.INITIALS),
        ("Adrian Del Maestro", "A. Del Maestro", Fit.INITIALS),
        ("M.-H. Yang", "Ming-Hsuan Yang", Fit.INITIALS),
        ("Chandan Reddy", "Chandan K. Reddy", Fit.INITIALS),
        ("C. M. Herdman", "C. M. Herdman", Fit.FULL),
        ("Del Maestro, Adrian", "Adrian Del Maestro", Fit.FULL),
    ],
)
def test_spellings_of_one_name_fit(wanted: str, listed: str, expected: Fit) -> None:
    assert fit(name(wanted), name(listed)) == expected


@pytest.mark.parametrize(
    ("wanted", "listed"),
    [
        ("Min Zhang", "Min Zhao"),
        ("Min Zhang", "Ming Zhang"),
        ("Yang Liu", "Yi Liu"),
        ("Chandan Reddy", "Chandan K. Roberts"),
        ("Adrian Del Maestro", "Adrian Di Maestro"),
        ("Zhang Wei Li", "Li Wei Zhang"),
        ("Zhang", "Min Zhang"),
    ],
)
def test_other_names_do_not_fit(wanted: str, listed: str) -> None:
    assert fit(name(wanted), name(listed)) is None


def test_a_full_name_does_not_follow_every_initial_of_it_unless_pinned() -> None:
    authors = ["A. Rommal", "M. Zhang"]
    assert not is_by(name("Min Zhang"), authors, None)
    assert is_by(name("M. Zhang"), authors, None)


def test_the_demo_days_hold_four_people_named_min_zhang() -> None:
    """2510.13363 lists two authors named Min Zhang; the four papers share no co-author."""
    found = identities(name("Min Zhang"), demo_papers())
    assert [identity.papers for identity in found] == [
        ("2510.12899",),
        ("2510.13276",),
        ("2510.13344",),
        ("2510.13363",),
    ]
    assert found[0].shown == ("Bo Jiang", "Kun Kuang", "Shouang Wei")
    assert "kun-kuang" in found[0].coauthors


def test_papers_that_share_co_authors_are_one_person() -> None:
    found = identities(name("Dacheng Tao"), demo_papers())
    assert sum(len(identity.papers) for identity in found) == 4
    papers = [
        ("a", ["Liang Ding", "Dacheng Tao"]),
        ("b", ["Dacheng Tao", "Sen Zhang", "Liang Ding"]),
        ("c", ["Dacheng Tao", "Sen Zhang"]),
        ("d", ["Dacheng Tao", "Guozheng Ma"]),
    ]
    grouped = identities(name("Dacheng Tao"), papers)
    assert [identity.papers for identity in grouped] == [("a", "b", "c"), ("d",)]
    assert grouped[0].shown[:2] == ("Liang Ding", "Sen Zhang")


def test_a_pinned_follow_keeps_to_its_person() -> None:
    papers = dict(demo_papers())
    wanted = name("Min Zhang")
    pinned = next(
        identity
        for identity in identities(wanted, list(papers.items()))
        if "2510.12899" in identity.papers
    )
    new_with_kun_kuang = ["Kun Kuang", "Min Zhang", "Someone Else"]
    assert is_by(wanted, new_with_kun_kuang, pinned)
    assert not is_by(wanted, papers["2510.13276"], pinned)
    assert is_by(wanted, papers["2510.13276"], None)


def test_initials_in_the_api_fixture_are_one_person_through_co_authors() -> None:
    """The real `au:del_maestro` response lists him as Adrian Del Maestro and A. Del Maestro."""
    papers = [
        ("cond-mat/0412498", ["Adrian Del Maestro", "Subir Sachdev"]),
        ("cond-mat/0603029", ["Adrian Del Maestro", "Bernd Rosenow", "Subir Sachdev"]),
        ("1303.6954", ["B. Kulchytskyy", "G. Gervais", "A. Del Maestro"]),
        ("1312.6177", ["C. M. Herdman", "A. Rommal", "A. Del Maestro"]),
        ("1412.6529", ["C. M. Herdman", "A. Del Maestro"]),
        ("1201.4869", ["Adrian Del Maestro"]),
    ]
    grouped = identities(name("Adrian Del Maestro"), papers)
    assert [identity.papers for identity in grouped] == [
        ("1312.6177", "1412.6529"),
        ("cond-mat/0412498", "cond-mat/0603029"),
        ("1201.4869",),
        ("1303.6954",),
    ]
    assert grouped[0].shown == ("C. M. Herdman", "A. Rommal")
    assert not is_by(name("Adrian Del Maestro"), papers[2][1], None)
    assert is_by(name("A. Del Maestro"), papers[2][1], None)
    assert is_by(name("au:del_maestro_a"), papers[0][1], None)
