"""Novelty with no LLM: how far a paper's vector sits from the papers announced before it.

A paper's novelty is 1 - the mean cosine to its `NEIGHBOURS` nearest papers first announced in
the `WINDOW_DAYS` before its day (exact search, FAISS inner product on unit vectors), stored
once per paper and model with its percentile among the day's papers (docs/people.md). While
the archive holds fewer earlier papers than that (a first run), the day's other papers stand in.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, timedelta

import faiss
import numpy as np
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from paperradar.embed.vectors import announced_vectors, load_vectors
from paperradar.reports import StageReport
from paperradar.store.db import session_scope
from paperradar.store.records import Novelty, Paper

logger = logging.getLogger(__name__)

NEIGHBOURS = 10
WINDOW_DAYS = 90


def unit(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (zero rows stay zero), as float32 for FAISS."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


def novelty_values(
    day: np.ndarray, earlier: np.ndarray, *, k: int = NEIGHBOURS
) -> tuple[np.ndarray, int]:
    """Each day paper's 1 - mean cosine to its k nearest earlier papers, and how many it was
    compared with; with fewer than k earlier papers, the day's other papers join them."""
    queries = unit(day)
    reference = unit(earlier) if len(earlier) else np.zeros((0, queries.shape[1]), np.float32)
    own = len(reference) < k
    if own:
        reference = np.vstack([reference, queries])
    index = faiss.IndexFlatIP(queries.shape[1])
    index.add(reference)
    wanted = min(k + int(own), len(reference))
    similarities, found = index.search(queries, wanted)
    if own:  # a paper is not its own neighbour: drop its own hit, else its furthest one
        rows = np.arange(len(queries))
        is_self = found == (len(reference) - len(queries) + rows)[:, None]
        drop = np.where(is_self.any(axis=1), is_self.argmax(axis=1), wanted - 1)
        keep = np.ones(found.shape, dtype=bool)
        keep[rows, drop] = False
        wanted -= 1
        similarities = similarities[keep].reshape(len(queries), wanted)
    if wanted <= 0:
        return np.full(len(queries), np.nan), 0
    return 1.0 - similarities.mean(axis=1), wanted


def percentiles(values: Sequence[float]) -> list[int]:
    """Each value's percentile among them (0: the least novel, 100: the most); ties share."""
    array = np.asarray(values, dtype=np.float64)
    if len(array) < 2:
        return [100] * len(array)
    ordered = np.sort(array)
    below = np.searchsorted(ordered, array, side="left")
    equal = np.searchsorted(ordered, array, side="right") - below - 1
    return [round(100 * (b + e / 2) / (len(array) - 1)) for b, e in zip(below, equal, strict=True)]


def score_day(
    session: Session,
    model: str,
    day: date,
    *,
    k: int = NEIGHBOURS,
    window_days: int = WINDOW_DAYS,
) -> int:
    """Store the novelty of the day's papers that have none for the model; return how many.

    The day's percentiles are written again over every paper of the day, so a paper added
    late moves the others' percentiles and not their values.
    """
    papers = session.exec(
        select(Paper).where(Paper.first_announced_on == day).order_by(col(Paper.arxiv_id))
    ).all()
    stored = {
        row.paper_id: row
        for row in session.exec(select(Novelty).where(Novelty.model == model, Novelty.day == day))
    }
    missing = [paper for paper in papers if paper.arxiv_id not in stored]
    if not missing:
        return 0
    _, earlier = announced_vectors(session, model, day - timedelta(days=window_days), day)
    values, compared = novelty_values(load_vectors(session, model, missing), earlier, k=k)
    for paper, value in zip(missing, values, strict=True):
        if not np.isnan(value):
            stored[paper.arxiv_id] = Novelty(
                paper_id=paper.arxiv_id,
                model=model,
                day=day,
                value=float(value),
                percent=0,
                neighbours=compared,
            )
    rows = list(stored.values())
    for row, percent in zip(rows, percentiles([row.value for row in rows]), strict=True):
        row.percent = percent
    session.add_all(rows)
    return len(missing)


def stored_percents(session: Session, paper_ids: Sequence[str]) -> dict[str, int]:
    """Each paper's novelty percentile (of the newest model that scored it: one in practice)."""
    rows = session.exec(
        select(Novelty.paper_id, Novelty.percent)
        .where(col(Novelty.paper_id).in_(list(paper_ids)))
        .order_by(col(Novelty.id))
    )
    return dict(rows.all())


def run(engine: Engine, day: date, *, model: str) -> StageReport:
    """The novelty stage: each of the day's papers once per model, after the embed stage."""
    with session_scope(engine) as session:
        written = score_day(session, model, day)
    logger.debug("novelty: %d paper(s) of %s", written, day)
    return StageReport("novelty", written=written)
