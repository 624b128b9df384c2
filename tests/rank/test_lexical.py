import numpy as np
import pytest

from paperradar.rank.lexical import LexicalIndex, saturate, stem, tokenize

TITLES = [
    "Model Merging with Task Arithmetic",
    "Long-Context Language Models Need Better Position Encodings",
    "A Survey of Graph Neural Networks",
    "Merged Experts for Multilingual Translation",
]
ABSTRACTS = [
    "We study merging fine-tuned language models by adding task vectors.",
    "We extend the context window of language models to one million tokens.",
    "Graph neural networks learn on graphs; we survey language models for graphs too.",
    "Experts are merged after training; the merged model translates many languages.",
]


def index() -> LexicalIndex:
    return LexicalIndex(TITLES, ABSTRACTS)


def test_inflections_of_a_word_share_one_stem() -> None:
    assert len({stem(word) for word in ("merge", "merges", "merged", "merging")}) == 1
    assert stem("memories") == stem("memory")
    assert stem("running") == stem("run")
    assert stem("process") == stem("processes")


def test_tokens_are_lower_case_words_split_at_hyphens() -> None:
    assert tokenize("Long-Context KV-cache") == ["long", "context", "kv", "cach"]


def test_hyphenated_keyword_finds_the_spaced_phrase_and_marks_the_title() -> None:
    hits = index().phrase_hits("long context")
    assert hits.count.tolist() == [0, 1, 0, 0]
    assert hits.in_title.tolist() == [False, True, False, False]
    assert hits.idf > 0


def test_phrase_matches_only_consecutive_words() -> None:
    # "language models" occurs in three abstracts; "models language" in none.
    assert index().phrase_hits("language models").count.astype(bool).sum() == 3
    assert not index().phrase_hits("models language").count.any()


def test_phrase_of_stopwords_only_matches_nothing() -> None:
    assert not index().phrase_hits("of the").count.any()


def test_rarer_phrase_in_the_set_has_higher_idf() -> None:
    lexical = index()
    assert lexical.phrase_hits("task arithmetic").idf > lexical.phrase_hits("language models").idf


def test_bm25_ranks_the_document_about_the_query_first() -> None:
    scores = index().bm25("merging fine-tuned models with task vectors")
    assert int(np.argmax(scores)) == 0
    assert scores[2] < scores[0]


def test_bm25_idf_comes_from_the_set_being_scored() -> None:
    # "graph" is rare among these four papers but common among graph papers.
    alone = LexicalIndex(TITLES, ABSTRACTS).bm25("graph")[2]
    crowded = LexicalIndex(
        [*TITLES, "Graph Transformers", "Graph Pooling"],
        [*ABSTRACTS, "A graph model.", "Pooling on a graph."],
    ).bm25("graph")[2]
    assert crowded < alone


def test_bm25_share_lies_in_the_unit_interval() -> None:
    shares = index().bm25_share("merging language models with task arithmetic")
    assert ((shares >= 0) & (shares < 1)).all()
    assert shares[0] == shares.max()


def test_empty_set_scores_nothing() -> None:
    empty = LexicalIndex([], [])
    assert empty.bm25("anything").shape == (0,)
    assert empty.phrase_hits("anything").count.shape == (0,)


def test_saturate_is_half_at_its_half_point_and_below_one() -> None:
    values = saturate(np.array([0.0, 2.0, 1e9]), 2.0)
    assert values[0] == 0 and values[1] == 0.5 and values[2] < 1


def test_an_index_with_anothers_statistics_scores_its_papers_as_that_index_would() -> None:
    # Yesterday's voted paper is scored as if it had been announced among today's papers.
    today = index()
    alone = LexicalIndex(TITLES[2:3], ABSTRACTS[2:3], statistics=today)
    for query in ("graph neural network", "model merging of experts"):
        assert alone.bm25(query)[0] == pytest.approx(today.bm25(query)[2])
        assert alone.bm25_share(query)[0] == pytest.approx(today.bm25_share(query)[2])
    assert alone.phrase_hits("graph").idf == today.phrase_hits("graph").idf
    assert LexicalIndex(TITLES[2:3], ABSTRACTS[2:3]).phrase_hits("graph").idf != pytest.approx(
        today.phrase_hits("graph").idf
    )
