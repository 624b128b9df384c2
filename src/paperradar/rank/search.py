"""Semantic search over the stored papers: a query's vector against every cached paper vector."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

import numpy as np
from sqlmodel import Session, col, select

from paperradar.embed.embeddings import Embedder
from paperradar.embed.vectors import scan_current_vectors
from paperradar.store.records import Digest, DigestItem, Paper

# Vectors are scored in chunks of this many rows, so memory stays flat as the archive grows.
CHUNK = 5000


@dataclass(frozen=True)
class Pick:
    """A past pick of a paper: under which topic of which profile, on which day."""

    profile: str
    topic: str
    day: date


@dataclass(frozen=True)
class SearchHit:
    """A stored paper close to the query, and the digests it was picked for."""

    paper: Paper
    similarity: float
    picks: tuple[Pick, ...]


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Return the indices of the k highest scores, best first."""
    if len(scores) <= k:
        return np.argsort(-scores, kind="stable")
    best = np.argpartition(-scores, k)[:k]
    return best[np.argsort(-scores[best], kind="stable")]


def _nearest(
    session: Session, model: str, query: np.ndarray, limit: int
) -> list[tuple[str, float]]:
    """Scan the model's vectors of current paper texts; keep the `limit` closest to the query."""
    best: list[tuple[str, float]] = []
    for ids, vectors in scan_current_vectors(session, model, chunk=CHUNK):
        scores = vectors @ query
        best += [(ids[i], float(scores[i])) for i in top_k(scores, limit)]
        best = sorted(best, key=lambda hit: -hit[1])[:limit]
    return best


def past_picks(
    session: Session, paper_ids: Collection[str], profiles: Collection[str]
) -> dict[str, list[Pick]]:
    """Return, per paper, where it was picked in the given profiles' digests, newest first."""
    rows = session.exec(
        select(
            col(DigestItem.paper_id), col(DigestItem.topic), col(Digest.profile), col(Digest.day)
        )
        .join(Digest, col(Digest.id) == col(DigestItem.digest_id))
        .where(col(DigestItem.paper_id).in_(list(paper_ids)), col(Digest.profile).in_(profiles))
        .order_by(col(Digest.day).desc())
    )
    picks: dict[str, list[Pick]] = {}
    for paper_id, topic, profile, day in rows:
        picks.setdefault(paper_id, []).append(Pick(profile=profile, topic=topic, day=day))
    return picks


def search_papers(
    session: Session,
    embedder: Embedder,
    query: str,
    *,
    profiles: Collection[str],
    limit: int = 5,
) -> list[SearchHit]:
    """Return the stored papers closest to a query, with their past picks in `profiles`."""
    vector = embedder.embed([query])[0]
    nearest = _nearest(session, embedder.model_name, vector, limit)
    papers = {
        paper.arxiv_id: paper
        for paper in session.exec(
            select(Paper).where(col(Paper.arxiv_id).in_([paper_id for paper_id, _ in nearest]))
        )
    }
    picks = past_picks(session, list(papers), profiles)
    return [
        SearchHit(papers[paper_id], similarity, tuple(picks.get(paper_id, ())))
        for paper_id, similarity in nearest
    ]
