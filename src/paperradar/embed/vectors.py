"""The one reader and writer of `Embedding` rows: paper vectors stored as float32 bytes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date

import numpy as np
from sqlmodel import Session, col, select

from paperradar.errors import ConfigError
from paperradar.store.db import insert_missing
from paperradar.store.records import Embedding, Paper, TextEmbedding


def as_array(blob: bytes) -> np.ndarray:
    """Read a stored vector."""
    return np.frombuffer(blob, dtype=np.float32)


def store_vectors(
    session: Session, model: str, papers: Sequence[Paper], vectors: np.ndarray
) -> None:
    """Store each paper's vector of its current text, for this model."""
    session.add_all(
        Embedding(
            paper_id=paper.arxiv_id,
            model=model,
            text_sha=paper.text_sha,
            dim=int(vector.shape[0]),
            vector=vector.astype(np.float32).tobytes(),
        )
        for paper, vector in zip(papers, vectors, strict=True)
    )


def cached_keys(session: Session, model: str, paper_ids: list[str]) -> set[tuple[str, str]]:
    """Return the (paper, text hash) pairs that have a vector of this model."""
    keys: set[tuple[str, str]] = set()
    for start in range(0, len(paper_ids), 500):
        chunk = paper_ids[start : start + 500]
        rows = session.exec(
            select(Embedding.paper_id, Embedding.text_sha).where(
                Embedding.model == model, col(Embedding.paper_id).in_(chunk)
            )
        )
        keys.update((paper_id, sha) for paper_id, sha in rows)
    return keys


def current_vectors(session: Session, model: str, papers: Sequence[Paper]) -> dict[str, np.ndarray]:
    """Return the stored vectors of those papers whose current text has one."""
    current = {paper.arxiv_id: paper.text_sha for paper in papers}
    rows = session.exec(
        select(Embedding).where(
            Embedding.model == model, col(Embedding.paper_id).in_(list(current))
        )
    )
    return {
        row.paper_id: as_array(row.vector) for row in rows if current[row.paper_id] == row.text_sha
    }


def load_vectors(session: Session, model: str, papers: Sequence[Paper]) -> np.ndarray:
    """Return the cached vectors of papers' current texts, in the papers' order."""
    by_key: dict[tuple[str, str], np.ndarray] = {}
    ids = [paper.arxiv_id for paper in papers]
    for start in range(0, len(ids), 500):
        rows = session.exec(
            select(Embedding).where(
                Embedding.model == model, col(Embedding.paper_id).in_(ids[start : start + 500])
            )
        )
        for row in rows:
            by_key[(row.paper_id, row.text_sha)] = as_array(row.vector)
    missing = [paper.arxiv_id for paper in papers if (paper.arxiv_id, paper.text_sha) not in by_key]
    if missing:
        raise ConfigError(f"{len(missing)} paper(s) have no {model} embedding, e.g. {missing[0]}")
    if not papers:
        return np.zeros((0, 0), dtype=np.float32)
    return np.stack([by_key[(paper.arxiv_id, paper.text_sha)] for paper in papers])


def scan_current_vectors(
    session: Session, model: str, *, chunk: int
) -> Iterator[tuple[list[str], np.ndarray]]:
    """Yield the model's vectors of every paper's current text, `chunk` papers at a time."""
    rows = session.exec(
        select(Embedding.paper_id, Embedding.vector)
        .join(Paper, col(Paper.arxiv_id) == col(Embedding.paper_id))
        .where(Embedding.model == model, col(Embedding.text_sha) == col(Paper.text_sha))
        .execution_options(yield_per=chunk)
    )
    for part in rows.partitions(chunk):
        yield [paper_id for paper_id, _ in part], np.stack([as_array(blob) for _, blob in part])


def stored_text_vectors(session: Session, model: str, shas: Sequence[str]) -> dict[str, np.ndarray]:
    """Return the stored vectors of texts (not papers) by their hash, for this model."""
    rows = session.exec(
        select(TextEmbedding).where(
            TextEmbedding.model == model, col(TextEmbedding.text_sha).in_(list(shas))
        )
    )
    return {row.text_sha: as_array(row.vector) for row in rows}


def store_text_vectors(session: Session, model: str, vectors: dict[str, np.ndarray]) -> None:
    """Store texts' vectors by hash; another process storing the same ones at once is fine."""
    rows = [
        TextEmbedding(model=model, text_sha=sha, vector=vector.astype(np.float32).tobytes())
        for sha, vector in vectors.items()
    ]
    insert_missing(session, rows)


def announced_vectors(
    session: Session, model: str, start: date, end: date
) -> tuple[list[str], np.ndarray]:
    """Return the model's vectors of the current texts of papers first announced in
    [start, end), in id order (ids, one row each)."""
    rows = session.exec(
        select(Embedding.paper_id, Embedding.vector)
        .join(Paper, col(Paper.arxiv_id) == col(Embedding.paper_id))
        .where(
            Embedding.model == model,
            col(Embedding.text_sha) == col(Paper.text_sha),
            col(Paper.first_announced_on) >= start,
            col(Paper.first_announced_on) < end,
        )
        .order_by(col(Embedding.paper_id))
    ).all()
    if not rows:
        return [], np.zeros((0, 0), dtype=np.float32)
    return [paper_id for paper_id, _ in rows], np.stack([as_array(blob) for _, blob in rows])
