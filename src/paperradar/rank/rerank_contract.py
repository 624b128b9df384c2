"""What the LLM re-rank asks about one topic, and the answer it must give."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from paperradar.llm.contract import NonEmpty
from paperradar.llm.prompts import Prompt, neutralise_fence, render_messages
from paperradar.profiles.profile import Topic
from paperradar.store.records import Paper
from paperradar.text import cut

# An abstract is cut to this many characters: its opening says what the paper does, and a
# request holds up to `rerank.top` of them.
ABSTRACT_CHARS = 1200


class PaperJudgement(BaseModel):
    """How relevant one paper of the request is to the topic."""

    model_config = ConfigDict(extra="forbid")

    n: int = Field(description="The paper's number in the request.")
    relevance: int = Field(ge=0, le=10, description="0 (unrelated) to 10 (squarely on the topic).")
    why: NonEmpty = Field(description="One short English sentence.")


class RerankDraft(BaseModel):
    """The relevance to the topic of every paper of the request."""

    model_config = ConfigDict(extra="forbid")

    judgements: list[PaperJudgement] = Field(description="One per paper of the request.")

    @model_validator(mode="after")
    def _each_paper_once(self, info: ValidationInfo) -> Self:
        count = (info.context or {}).get("count")
        if count is None:
            return self
        given = [judgement.n for judgement in self.judgements]
        if sorted(given) != list(range(1, count + 1)):
            repeated = sorted({n for n in given if given.count(n) > 1})
            missing = sorted(set(range(1, count + 1)) - set(given))
            unknown = sorted(set(given) - set(range(1, count + 1)))
            raise ValueError(
                f"judgements must judge papers 1 to {count} once each "
                f"(missing {missing}, repeated {repeated}, unknown {unknown})"
            )
        return self


def topic_sha(topic: Topic) -> str:
    """Hash what a topic is judged by (title, description, keywords): an edit judges anew."""
    text = json.dumps([topic.title, topic.description, topic.keywords], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def render_request(prompt: Prompt, topic: Topic, papers: Sequence[Paper]) -> tuple[str, str]:
    """Render the (system, user) messages; each paper is fenced and numbered from 1."""
    fenced = [
        {
            "title": neutralise_fence(" ".join(paper.title.split()), "paper"),
            "abstract": neutralise_fence(cut(paper.abstract, ABSTRACT_CHARS), "paper"),
        }
        for paper in papers
    ]
    brief = {
        "title": neutralise_fence(topic.title, "paper"),
        "description": neutralise_fence(topic.description, "paper"),
        "keywords": [neutralise_fence(keyword, "paper") for keyword in topic.keywords],
    }
    return render_messages(prompt, {"topic": brief, "papers": fenced})
