"""The score stage: load the day's candidates, seeds and votes, score them, store Matches."""

from __future__ import annotations

import logging
import math
import sys
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date
from functools import cache

import numpy as np
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from threadpoolctl import ThreadpoolController
from tqdm import tqdm

from paperradar.embed.embeddings import Embedder, text_vectors
from paperradar.embed.vectors import current_vectors, load_vectors
from paperradar.profiles.profile import Profile
from paperradar.rank.index import (
    CandidatePool,
    PaperVector,
    ScoredMatch,
    TopicIndex,
    worth_keeping,
)
from paperradar.rank.learning import NEWEST_VOTES, Votes
from paperradar.rank.rerank import Reranker
from paperradar.readers.feedback import topic_votes
from paperradar.readers.topics import subscription_id_of
from paperradar.reports import StageReport
from paperradar.store.db import session_scope
from paperradar.store.records import Match, Paper

logger = logging.getLogger(__name__)


def load_seeds(session: Session, model: str, profile: Profile) -> list[PaperVector]:
    """Return the profile's seeds: stored text and vector, else inline text; others are skipped."""
    rows = {
        paper.arxiv_id: paper
        for paper in session.exec(
            select(Paper).where(col(Paper.arxiv_id).in_(sorted(profile.seed_ids)))
        )
    }
    vectors = current_vectors(session, model, list(rows.values()))
    seeds = []
    for seed in profile.seed_papers:
        row = rows.get(seed.id)
        if row is not None:
            seeds.append(PaperVector(seed.id, row.title, row.abstract, vectors.get(seed.id)))
        elif seed.title and seed.abstract:
            seeds.append(PaperVector(seed.id, seed.title, seed.abstract))
        else:
            logger.info("score: seed %s of %s has no text yet; skipped", seed.id, profile.name)
    return seeds


def candidates_of(session: Session, model: str, papers: Sequence[Paper]) -> CandidatePool:
    """Pair stored papers with their cached vectors (the embed stage has run) and index them."""
    vectors = load_vectors(session, model, papers)
    return CandidatePool.of(
        [
            PaperVector(paper.arxiv_id, paper.title, paper.abstract, vector)
            for paper, vector in zip(papers, vectors, strict=True)
        ]
    )


def score_candidates(
    session: Session, embedder: Embedder, profile: Profile, pool: CandidatePool
) -> list[ScoredMatch]:
    """Score candidates for every topic of a profile: the one path of `run` and `rank`."""
    # A profile's matrices are small (a day's papers by a topic's anchors or voted papers): waking
    # BLAS threads costs more than they save, and far more on a busy machine.
    with _blas_threads().limit(limits=1, user_api="blas"):
        seeds = load_seeds(session, embedder.model_name, profile)
        index = TopicIndex.build(
            profile,
            seeds=seeds,
            embed=lambda texts: text_vectors(session, embedder, texts),
            background=pool.vectors,
        )
        return index.match(pool, load_votes(session, embedder.model_name, profile))


@cache
def _blas_threads() -> ThreadpoolController:
    """The BLAS libraries loaded by now (numpy's, scipy's, faiss's), found once per process."""
    return ThreadpoolController()


def load_votes(session: Session, model: str, profile: Profile) -> dict[str, Votes]:
    """Return each topic's newest voted papers with their stored vectors (others are skipped)."""
    by_topic = {
        topic: [(paper, 1) for paper in votes.liked[:NEWEST_VOTES]]
        + [(paper, -1) for paper in votes.disliked[:NEWEST_VOTES]]
        for topic, votes in topic_votes(session, profile.name).items()
        if topic in profile.topics
    }
    wanted = sorted({paper for pairs in by_topic.values() for paper, _ in pairs})
    papers = session.exec(select(Paper).where(col(Paper.arxiv_id).in_(wanted))).all()
    vectors = current_vectors(session, model, papers) if papers else {}
    text = {paper.arxiv_id: paper for paper in papers}
    loaded = {}
    for topic, pairs in by_topic.items():
        known = [(paper, value) for paper, value in pairs if paper in vectors]
        if known:
            loaded[topic] = Votes(
                paper_ids=tuple(paper for paper, _ in known),
                titles=tuple(text[paper].title for paper, _ in known),
                abstracts=tuple(text[paper].abstract for paper, _ in known),
                vectors=np.stack([vectors[paper] for paper, _ in known]),
                values=np.array([value for _, value in known]),
            )
    return loaded


def save_matches(
    session: Session, *, profile: Profile, day: date, matches: Sequence[ScoredMatch]
) -> int:
    """Write the matches worth keeping and refresh stored ones; return rows inserted or changed."""
    stored = {
        (match.paper_id, match.topic): match
        for match in session.exec(
            select(Match).where(Match.profile == profile.name, Match.day == day)
        )
    }
    written = 0
    for scored in matches:
        row = stored.get((scored.paper_id, scored.topic))
        if row is not None and _refresh(row, scored):
            written += 1
    for scored in worth_keeping(matches, profile):
        if (scored.paper_id, scored.topic) not in stored:
            values = {"profile": profile.name, "day": day, **asdict(scored)}
            session.add(Match.model_validate(values))
            written += 1
    return written


def _refresh(row: Match, scored: ScoredMatch) -> bool:
    """Bring a stored match up to date (after a profile edit); return whether it changed."""
    if (row.percent, row.reason) == (scored.percent, scored.reason) and math.isclose(
        row.score, scored.score, rel_tol=1e-9, abs_tol=1e-12
    ):
        return False
    row.score, row.percent, row.reason = scored.score, scored.percent, scored.reason
    return True


def run(
    engine: Engine,
    day: date,
    *,
    embedder: Embedder,
    profiles: Sequence[Profile],
    reranker: Reranker,
) -> StageReport:
    """Score the day's candidates for every profile and keep the matches a digest can use.

    When `rerank.top` is set, the LLM re-scores each topic's best candidates first (rerank.py).
    """
    details: dict[str, int | float] = {}
    with session_scope(engine) as session:
        papers = session.exec(
            select(Paper).where(Paper.first_announced_on == day).order_by(col(Paper.arxiv_id))
        ).all()
        if not papers:
            return StageReport("score", written=0, note=f"no candidates announced on {day}")
        pool = candidates_of(session, embedder.model_name, papers)
        for profile in tqdm(profiles, desc="score", disable=not sys.stderr.isatty()):
            matches = reranker.apply(
                session, profile, score_candidates(session, embedder, profile, pool)
            )
            kept = save_matches(session, profile=profile, day=day, matches=matches)
            # Chats' own profiles are counted together: a report line per chat would not read.
            own = subscription_id_of(profile.name) is not None
            key = "chats' own topics" if own else profile.name
            details[key] = details.get(key, 0) + kept
    written = int(sum(details.values()))
    logger.debug("score: %d candidate(s), %d match(es) written", len(papers), written)
    return StageReport(
        "score", written=written, details={**details, **reranker.details()}, note=reranker.note()
    )
