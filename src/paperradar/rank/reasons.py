"""Why a paper matched a topic, as data: the phrases found and the paper it is closest to.

A reason is stored with its match as JSON and put into words only when shown, in the reader's
language (compose/reasons.py), so a stored match never carries an id, a cosine or one language.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class MatchReason:
    """The evidence a reader can check: phrases in the paper, and the paper it is most like."""

    # The topic's keyword phrases found in the title or abstract, strongest first.
    phrases: tuple[str, ...] = ()
    # The researcher's own (seed) paper it is closest to, when closer than the description.
    seed: str | None = None
    # The paper readers 👍'd that it is closest to, when votes shaped the score.
    liked: str | None = None
    # How many votes the topic learned from (0: the profile's text alone).
    votes: int = 0
    # The re-ranking LLM's relevance (0-10) and its one-sentence why, when it judged the paper.
    judged: int | None = None
    judgement: str = ""

    def with_votes(self, votes: int, liked: str | None) -> MatchReason:
        """The same reason, saying the readers' votes shaped the score."""
        return replace(self, votes=votes, liked=liked)

    def with_judgement(self, relevance: int, why: str) -> MatchReason:
        """The same reason, with the re-ranking LLM's judgement recorded."""
        return replace(self, judged=relevance, judgement=why)

    def dump(self) -> str:
        """The reason as stored in a match row."""
        # Field by field, as `load` reads them (dataclasses.asdict deep-copies: slow per match).
        data: dict[str, object] = {
            "phrases": list(self.phrases),
            "seed": self.seed,
            "liked": self.liked,
            "votes": self.votes,
            "judged": self.judged,
            "judgement": self.judgement,
        }
        kept = {k: v for k, v in data.items() if v or (k == "judged" and v is not None)}
        return json.dumps(kept, ensure_ascii=False, sort_keys=True)

    @classmethod
    def load(cls, stored: str) -> MatchReason | None:
        """Read a stored reason; None for rows written before reasons were data (plain text)."""
        try:
            data = json.loads(stored)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        return cls(
            phrases=tuple(str(phrase) for phrase in data.get("phrases", ())),
            seed=_optional(data.get("seed")),
            liked=_optional(data.get("liked")),
            votes=int(data.get("votes", 0)),
            judged=None if data.get("judged") is None else int(data["judged"]),
            judgement=str(data.get("judgement", "")),
        )

    @property
    def papers(self) -> tuple[str, ...]:
        """The papers the reason names (their titles are shown with it)."""
        return tuple(paper for paper in (self.seed, self.liked) if paper)


def _optional(value: object) -> str | None:
    return str(value) if value else None
