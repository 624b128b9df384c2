"""What a summary must be: the LLM's JSON output contract, checked by pydantic."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from paperradar.llm.contract import NonEmpty


class TopicReason(BaseModel):
    """Why the paper hits one topic."""

    model_config = ConfigDict(extra="forbid")

    zh: NonEmpty = Field(description="One Chinese sentence.")
    en: NonEmpty = Field(description="One English sentence.")


# The LLM's output contract: the prompt shows its JSON schema (the docstring and the field
# descriptions included), so the prompt and the validator cannot drift. The descriptions are
# terse because the system prompt states the rules in full and every token is paid per paper.


class SummaryDraft(BaseModel):
    """A bilingual briefing of one arXiv paper."""

    model_config = ConfigDict(extra="forbid")

    # The translation comes before the TL;DRs so the model has read the whole text when it
    # condenses it.
    title_zh: NonEmpty = Field(description="The title in Chinese.")
    abstract_zh: NonEmpty = Field(
        description="The complete, faithful Chinese translation of the abstract."
    )
    tldr_zh: NonEmpty = Field(
        description="One Chinese sentence, at most 80 characters: the method and main result."
    )
    tldr_en: NonEmpty = Field(description="One English sentence: the method and main result.")
    why_by_topic: dict[str, TopicReason] = Field(
        description="One entry per topic key of the request, and no other."
    )

    @model_validator(mode="after")
    def _one_reason_per_requested_topic(self, info: ValidationInfo) -> Self:
        requested = (info.context or {}).get("topics")
        if requested is not None and set(self.why_by_topic) != set(requested):
            raise ValueError(
                f"why_by_topic must have exactly the keys {sorted(requested)}, "
                f"not {sorted(self.why_by_topic)}"
            )
        return self


def summary_fields(draft: SummaryDraft) -> dict[str, str]:
    """Return every text of a draft by its field path, as the faithfulness check reads them."""
    fields = draft.model_dump(include={"title_zh", "abstract_zh", "tldr_zh", "tldr_en"})
    for key, why in draft.why_by_topic.items():
        fields[f"why_by_topic.{key}.zh"] = why.zh
        fields[f"why_by_topic.{key}.en"] = why.en
    return fields
