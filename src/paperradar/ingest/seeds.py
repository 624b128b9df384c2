"""Seed papers: store each profile's own papers as Paper rows that are no day's candidates."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import Engine
from sqlmodel import col, select

from paperradar.errors import SourceUnavailableError
from paperradar.ingest import arxiv_api
from paperradar.ingest.announcement import Announcement
from paperradar.ingest.feeds import collapse
from paperradar.ingest.papers import store_reference_papers
from paperradar.profiles.profile import Profile, SeedPaper
from paperradar.reports import StageReport
from paperradar.settings import ArxivSettings
from paperradar.store.db import session_scope
from paperradar.store.records import Paper
from paperradar.store.states import AnnounceType

logger = logging.getLogger(__name__)


def unique_seeds(profiles: Iterable[Profile]) -> list[SeedPaper]:
    """Return every profile's seeds once per id, preferring a seed that carries its text."""
    seeds: dict[str, SeedPaper] = {}
    for profile in profiles:
        for seed in profile.seed_papers:
            known = seeds.get(seed.id)
            if known is None or (seed.has_text and not known.has_text):
                seeds[seed.id] = seed
    return list(seeds.values())


def inline_announcement(seed: SeedPaper, day: date) -> Announcement:
    """Turn a seed's inline title and abstract into an Announcement (stored as a non-candidate)."""
    return Announcement(
        arxiv_id=seed.id,
        version=1,
        title=collapse(seed.title or ""),
        abstract=collapse(seed.abstract or ""),
        authors=(),
        categories=(),
        # Ignored for non-candidates: a seed is never announced through the profile.
        announce_type=AnnounceType.NEW,
        announced_on=day,
    )


def _look_up(settings: ArxivSettings, ids: list[str]) -> tuple[list[Announcement], str | None]:
    """Fetch seeds without inline text from arXiv; when arXiv is down, say so and carry on."""
    if not ids:
        return [], None
    try:
        found = arxiv_api.lookup(settings, ids)
    except SourceUnavailableError as error:
        logger.warning("seeds: %d seed(s) not looked up: %s", len(ids), error)
        return [], (
            f"{len(ids)} seed paper(s) without inline text could not be looked up ({error}); "
            "they have no text until a later run"
        )
    missing = sorted(set(ids) - {announcement.arxiv_id for announcement in found})
    if missing:
        logger.warning("seeds: arXiv does not know %s", ", ".join(missing))
        return found, f"arXiv does not know seed paper(s) {', '.join(missing)}"
    return found, None


def run(
    engine: Engine, day: date, *, profiles: Sequence[Profile], settings: ArxivSettings
) -> StageReport:
    """Store the profiles' seed papers not stored yet: inline text, else one arXiv look-up."""
    seeds = unique_seeds(profiles)
    with session_scope(engine) as session:
        ids = [seed.id for seed in seeds]
        stored = set(session.exec(select(Paper.arxiv_id).where(col(Paper.arxiv_id).in_(ids))))
    # A stored paper keeps its text: a seed's inline copy never overwrites it.
    pending = [seed for seed in seeds if seed.id not in stored]
    inline = [inline_announcement(seed, day) for seed in pending if seed.has_text]
    looked_up, note = _look_up(settings, [seed.id for seed in pending if not seed.has_text])
    with session_scope(engine) as session:
        counts = store_reference_papers(session, [*inline, *looked_up])
    details: dict[str, int | float] = {
        "seeds": len(seeds),
        "already_stored": len(stored),
        "looked_up": len(looked_up),
    }
    return StageReport("seeds", written=counts.written, details=details, note=note)
