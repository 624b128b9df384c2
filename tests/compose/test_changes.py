"""What changed in an abstract, on real abstracts of tests/fixtures."""

import json
from pathlib import Path
from typing import Any

from paperradar.compose.changes import compare, sentences

CORPUS = "corpus/corpus_cs_cl_lg_ai_2025-09_2025-10.jsonl"
MRI = "2510.09649"  # a real 2025-10-14 abstract with "et al.," and "5 M-parameter" inside


def corpus(arxiv_fixtures: Path) -> dict[str, dict[str, Any]]:
    lines = (arxiv_fixtures / CORPUS).read_text(encoding="utf-8").splitlines()
    return {row["id"]: row for row in map(json.loads, lines)}


def test_the_same_abstract_hard_wrapped_is_not_a_change(
    arxiv_fixtures: Path, bilingual_day: list[dict[str, Any]]
) -> None:
    # The upstream file keeps arXiv's hard-wrapped abstract; the corpus collapsed its spaces.
    papers = corpus(arxiv_fixtures)
    for row in bilingual_day[:10]:
        assert "\n" in row["summary"]
        assert not compare(papers[row["id"]]["abstract"], row["summary"]).changed


def test_sentences_split_at_sentence_ends_only(arxiv_fixtures: Path) -> None:
    parts = sentences(corpus(arxiv_fixtures)[MRI]["abstract"])
    assert len(parts) == 6
    assert "reported by Cokal et al., and 8 public Radiopaedia scans" in parts[3]
    assert parts[-1].startswith("The model's small size")


def test_a_dropped_sentence_is_counted_with_its_words(arxiv_fixtures: Path) -> None:
    abstract = corpus(arxiv_fixtures)[MRI]["abstract"]
    dropped = sentences(abstract)[4]
    change = compare(abstract, abstract.replace(dropped + " ", ""))
    assert (change.sentences_added, change.sentences_revised, change.sentences_removed) == (
        (),
        0,
        1,
    )
    assert (change.words_added, change.words_removed) == (0, len(dropped.split()))


def test_a_rewritten_abstract_shows_its_new_sentences(arxiv_fixtures: Path) -> None:
    papers = corpus(arxiv_fixtures)
    old, new = papers[MRI]["abstract"], papers["2510.09671"]["abstract"]
    change = compare(old, new)
    assert change.changed
    assert len(change.sentences_added) + change.sentences_revised == len(sentences(new))
    assert change.sentences_added[0] == sentences(new)[0]
    assert change.words_added > 100 and change.words_removed > 100
