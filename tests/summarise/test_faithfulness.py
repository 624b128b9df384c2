from typing import Any

import pytest
from support.openai_api import draft_from_row, is_upstream_failure

from paperradar.summarise.faithfulness import Violation, extract_names, find_violations

ABSTRACT = (
    "Merging Llama-3-8B and Qwen2.5-7B-Instruct task vectors, MergeKit-X reaches 71.3% on "
    "MMLU and 85.2\\% on GSM8K, a 1.5$\\times$ speed-up over TIES with a 32K context, "
    "trained on 1,200,000 examples ($10^{6}$ steps). It outperforms GPT-4o on LongBench v2 "
    "and BEq@10 across eleven languages."
)
KNOWN = ("LLM", "LLMs", "RL")


def problems(text: str, field: str = "tldr_en") -> list[tuple[str, str]]:
    return [
        (found.kind, found.token)
        for found in find_violations({field: text}, source=ABSTRACT, known_terms=KNOWN)
    ]


@pytest.mark.parametrize(
    "faithful",
    [
        "MergeKit-X 在 MMLU 上达到 71.3%，在 GSM8K 上达到 85.2%。",
        "速度提升 1.5 倍，上下文 32k，约 120 万个样本，10^6 步。",
        "A 1.5× speed-up with 32K context on 1.2M examples and 1,200,000 in all.",  # noqa: RUF001
        "Merging Llama 3 8B and Qwen2.5 beats GPT-4o on LongBench (v2) in 11 languages.",
        "LLMs merged with RL-free task vectors; BEq@10 improves.",
        "1. 合并任务向量；2. 评估 (1) MMLU 与 (2) GSM8K。",
        "$10^{6}$ steps, 85.2\\% on GSM8K.",
    ],
)
def test_numbers_and_names_written_in_the_abstract_pass(faithful: str) -> None:
    assert problems(faithful) == []


@pytest.mark.parametrize(
    ("unfaithful", "expected"),
    [
        ("在 MMLU 上达到 73.1%。", [("number", "73.1%")]),
        ("A 1.8× speed-up.", [("number", "1.8")]),  # noqa: RUF001
        ("上下文扩展到 128K。", [("number", "128K")]),
        ("Beats GPT-4 and Llama-3-70B.", [("name", "GPT-4"), ("name", "Llama-3-70B")]),
        ("Tops HumanEval and MATH500.", [("name", "HumanEval"), ("name", "MATH500")]),
        ("用 DeepSeek-R1 蒸馏。", [("name", "DeepSeek-R1")]),
    ],
)
def test_invented_numbers_models_and_benchmarks_are_violations(
    unfaithful: str, expected: list[tuple[str, str]]
) -> None:
    assert problems(unfaithful) == expected


def test_a_violation_names_its_field_and_token() -> None:
    [violation] = find_violations({"why_by_topic.model_merging.zh": "提升 9 个点"}, source=ABSTRACT)
    assert violation == Violation("why_by_topic.model_merging.zh", "number", "9")
    assert violation.describe() == (
        "why_by_topic.model_merging.zh: number '9' is not in the title or abstract"
    )


def test_each_token_is_reported_once_per_field() -> None:
    assert problems("GPT-5 and GPT-5 again, 99% and 99%") == [
        ("name", "GPT-5"),
        ("number", "99%"),
    ]


def test_glossary_acronyms_need_no_mention_but_other_capitals_do() -> None:
    assert problems("LLMs trained with RL.") == []
    assert problems("LLMs trained with RLHF.") == [("name", "RLHF")]


def test_names_are_tokens_with_digits_or_two_capitals() -> None:
    assert extract_names("We merge Qwen2.5 with GPT-4o on MMLU, LongBench and R-WoM. The II") == [
        "Qwen2.5",
        "GPT-4o",
        "MMLU",
        "LongBench",
        "R-WoM",
    ]
    # A full stop between words ends a name; "/" separates two.
    assert extract_names("LLMs.We use PRM/ORM") == ["LLMs", "PRM", "ORM"]


def test_real_upstream_summaries_are_faithful_but_one_that_names_a_hidden_method(
    bilingual_day: list[dict[str, Any]],
) -> None:
    unfaithful = {}
    for row in bilingual_day:
        if is_upstream_failure(row):
            continue
        draft = draft_from_row(row, ["topic"])
        fields = {key: draft[key] for key in ("title_zh", "abstract_zh", "tldr_zh", "tldr_en")}
        found = find_violations(
            fields, source=f"{row['title']}\n{row['summary']}", known_terms=("LLM", "SOTA")
        )
        if found:
            unfaithful[row["id"]] = [(v.kind, v.token) for v in found]
    # The abstract of 2510.12476 calls its method `\method` (an unexpanded LaTeX macro); the
    # upstream summary named it "M3", which appears nowhere in the title or abstract.
    assert unfaithful == {"2510.12476": [("name", "M3")]}
