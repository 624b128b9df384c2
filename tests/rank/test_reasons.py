import json

from paperradar.rank.reasons import MatchReason


def test_a_reason_reads_back_as_it_was_written_and_stores_only_what_it_says() -> None:
    full = MatchReason(
        phrases=("model merging", "任务算术"),
        seed="2401.00001",
        liked="2402.00002",
        votes=12,
        judged=0,
        judgement="Merges tokens, not models.",
    )
    bare = MatchReason(phrases=("long context",))

    assert MatchReason.load(full.dump()) == full
    assert MatchReason.load(bare.dump()) == bare
    assert json.loads(bare.dump()) == {"phrases": ["long context"]}
    assert "任务算术" in full.dump()  # stored as text, not \\u escapes


def test_a_re_ranked_reason_keeps_its_evidence_and_adds_the_judgement() -> None:
    cold = MatchReason(phrases=("model merging",), seed="2401.00001")

    judged = MatchReason.load(cold.with_judgement(8, "Merges fine-tuned LLMs.").dump())

    assert judged is not None
    assert (judged.phrases, judged.seed) == (cold.phrases, cold.seed)
    assert (judged.judged, judged.judgement) == (8, "Merges fine-tuned LLMs.")


def test_a_reason_stored_as_plain_text_reads_as_none() -> None:
    assert MatchReason.load("keywords: model merging; LLM 7/10: old format") is None
    assert MatchReason.load("[1, 2]") is None
