"""A reader with a consistent taste gets more of it: votes on one day reorder the next.

Real papers of the corpus, split into two announcement days. The reader follows long context
but wants only its papers about agents: 👍 on those among the first day's best papers, 👎 on the
rest. On the second day what they want must rank higher than in the cold ranking (reciprocal
ranks of the wanted papers in the top ten, summed).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from paperradar.embed.embeddings import Embedder
from paperradar.profiles.profile import load_profile
from paperradar.rank.index import CandidatePool, PaperVector, ScoredMatch, TopicIndex
from paperradar.rank.learning import Votes
from paperradar.text import paper_text

REPO_ROOT = Path(__file__).resolve().parents[2]
TOPIC = "long_context"
WANTED = re.compile(r"\bagent", re.IGNORECASE)
VOTED = 15


@pytest.mark.slow
def test_a_reader_who_wants_agents_gets_more_agent_papers_the_next_day(
    arxiv_fixtures: Path, embedder: Embedder
) -> None:
    path = arxiv_fixtures / "corpus" / "corpus_cs_cl_lg_ai_2025-09_2025-10.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    vectors = embedder.embed([paper_text(row["title"], row["abstract"]) for row in rows])
    papers = [
        PaperVector(row["id"], row["title"], row["abstract"], vector)
        for row, vector in zip(rows, vectors, strict=True)
    ]
    first, second = CandidatePool.of(papers[::2]), CandidatePool.of(papers[1::2])
    profile = load_profile(REPO_ROOT / "profiles" / "default.yaml")
    index = TopicIndex.build(profile, seeds=[], embed=embedder.embed, background=vectors)
    text = {p.paper_id: f"{p.title} {p.abstract}" for p in papers}
    paper = {p.paper_id: p for p in papers}

    shown = [m.paper_id for m in index.match(first) if m.topic == TOPIC][:VOTED]
    values = np.array([1 if WANTED.search(text[p]) else -1 for p in shown])
    assert 0 < (values > 0).sum() < VOTED, "the first day holds papers of both kinds"
    votes = Votes(
        paper_ids=tuple(shown),
        titles=tuple(paper[p].title for p in shown),
        abstracts=tuple(paper[p].abstract for p in shown),
        vectors=np.stack([vectors_of(paper[p]) for p in shown]),
        values=values,
    )

    def wanted_on_top(matches: list[ScoredMatch]) -> float:
        top = [m.paper_id for m in matches if m.topic == TOPIC][:10]
        return sum(1 / rank for rank, p in enumerate(top, start=1) if WANTED.search(text[p]))

    cold = wanted_on_top(index.match(second))
    learned = wanted_on_top(index.match(second, {TOPIC: votes}))
    assert learned > cold


def vectors_of(paper: PaperVector) -> np.ndarray:
    assert paper.vector is not None
    return paper.vector
