"""The `rank` command's core: rank every paper of a file for every topic of a profile."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from paperradar.embed.embeddings import Embedder, embed_missing
from paperradar.errors import ConfigError
from paperradar.ingest.announcement import Announcement
from paperradar.ingest.feeds import parse_feed
from paperradar.ingest.papers import store_reference_papers, stored_papers
from paperradar.ingest.seeds import inline_announcement
from paperradar.profiles.profile import Profile
from paperradar.rank.stage import candidates_of, score_candidates
from paperradar.store.db import session_scope
from paperradar.store.records import Paper

logger = logging.getLogger(__name__)

# Papers stored and embedded per transaction: a crash while embedding a large file loses one batch.
BATCH = 2000


def _stored(session: Session, ids: Sequence[str]) -> list[Paper]:
    """Return the stored papers of these ids, in the ids' order."""
    found = stored_papers(session, ids)
    return [found[arxiv_id] for arxiv_id in ids]


def _store_and_embed(
    engine: Engine, embedder: Embedder, announcements: Sequence[Announcement]
) -> None:
    """Store papers as non-candidates and embed those whose text has no vector yet."""
    for start in range(0, len(announcements), BATCH):
        batch = announcements[start : start + BATCH]
        with session_scope(engine) as session:
            store_reference_papers(session, batch)
            session.flush()
            ids = list(dict.fromkeys(announcement.arxiv_id for announcement in batch))
            embed_missing(session, embedder, _stored(session, ids))
        logger.info("rank: %d of %d papers stored", start + len(batch), len(announcements))


def rank_papers_file(
    engine: Engine, embedder: Embedder, papers: Path, profile: Profile, *, today: date
) -> dict[str, list[str]]:
    """Rank every paper of a file (JSONL plain or gzip, or an arXiv feed) for each topic.

    The papers are stored as non-candidates and embedded once per text, so a second run over
    the same file re-uses the cached vectors. Scoring is the daily pipeline's, with the file as
    the candidate set (its idf and its typical paper); the profile's own seed papers are left
    out, as they are never matched for it. Returns `{topic: [ids best first]}`.
    """
    try:
        data = papers.read_bytes()
    except OSError as error:
        raise ConfigError(f"cannot read papers file {papers}: {error}") from error
    announcements = parse_feed(data, source=str(papers)).announcements
    ids = [announcement.arxiv_id for announcement in announcements]
    # The seeds' inline text is stored and embedded as the seeds stage would, so that a second
    # run finds their vectors cached; a seed already stored keeps its text.
    seeds = [inline_announcement(seed, today) for seed in profile.seed_papers if seed.has_text]
    _store_and_embed(engine, embedder, [*announcements, *seeds])
    with session_scope(engine) as session:
        candidates = candidates_of(session, embedder.model_name, _stored(session, ids))
        matches = score_candidates(session, embedder, profile, candidates)
    ranking: dict[str, list[str]] = {key: [] for key in profile.topics}
    for match in matches:
        ranking[match.topic].append(match.paper_id)
    return ranking
