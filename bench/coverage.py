"""How complete the development labels are, measured with the profile's own keyword phrases.

A paper whose title holds one of a topic's keyword phrases ("KV cache", "self-evolving", "model
merging") is almost always on that topic. The share of those papers that a curated list names
says how much of the topic the lists cover: where it is low, most of a ranker's plainly on-topic
picks count as misses, and no ranker can pull far ahead of another on the labels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from peers import Row

from paperradar.profiles.profile import Profile
from paperradar.rank.lexical import LexicalIndex


@dataclass(frozen=True)
class Coverage:
    """One topic's title-phrase papers and labelled papers, and how far they overlap."""

    topic: str
    titled: int  # pool papers whose title holds one of the topic's keyword phrases
    titled_labelled: int  # of those, the ones a list names
    labelled: int  # all labelled pool papers

    @property
    def share(self) -> float:
        """The share of title-phrase papers that a list names."""
        return self.titled_labelled / self.titled if self.titled else float("nan")


def label_coverage(
    rows: Sequence[Row], profile: Profile, labels: Mapping[str, set[str]]
) -> list[Coverage]:
    """Count, per topic, the pool papers with a keyword phrase in their title and the labelled."""
    ids = [str(row["id"]) for row in rows]
    candidate = np.array([paper not in profile.seed_ids for paper in ids])
    index = LexicalIndex([str(row["title"]) for row in rows], ["" for _ in rows])
    found = []
    for key, topic in profile.topics.items():
        titled = np.zeros(len(rows), dtype=bool)
        for phrase in topic.keywords:
            titled |= index.phrase_hits(phrase).in_title
        labelled = candidate & np.array([paper in labels[key] for paper in ids])
        titled &= candidate
        found.append(
            Coverage(key, int(titled.sum()), int((titled & labelled).sum()), int(labelled.sum()))
        )
    return found


def coverage_table(coverage: Sequence[Coverage]) -> str:
    """Lay the coverage out, one topic a line."""
    head = f"{'topic':15s} {'keyword in title':>16s} {'of them listed':>15s} {'listed':>7s}"
    lines = [head, "-" * len(head)]
    for row in coverage:
        listed = f"{row.titled_labelled} ({row.share:.0%})"
        lines.append(f"{row.topic:15s} {row.titled:16d} {listed:>15s} {row.labelled:7d}")
    return "\n".join(lines)
