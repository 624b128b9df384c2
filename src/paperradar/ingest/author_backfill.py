"""`paperradar authors backfill`: a followed author's recent papers from the arXiv API.

The API's author search is loose (any author whose name holds the words), so every result is
checked against the name as readers/authors.py matches it; the papers kept are stored as
known papers, not as any day's candidates: they fill the researcher's page, never a digest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine

from paperradar.errors import FeedError
from paperradar.ingest.arxiv_api import search_author
from paperradar.ingest.papers import store_reference_papers
from paperradar.readers.authors import author_position, least_fit, parse_name
from paperradar.settings import ArxivSettings
from paperradar.store.db import session_scope

logger = logging.getLogger(__name__)

# Results asked for per backfill: a prolific author's year, at one request per page.
MAX_RESULTS = 200


@dataclass(frozen=True)
class AuthorBackfill:
    """What a backfill found: papers stored (new or updated), and results of other names."""

    found: int
    stored: int
    other_names: int

    def line(self, name: str, since: date) -> str:
        """The one line the command prints."""
        others = f"; {self.other_names} by other names left out" if self.other_names else ""
        return (
            f"{name}: {self.found} paper(s) since {since} on arXiv, {self.stored} new or "
            f"updated here{others}"
        )


def backfill_author(
    engine: Engine,
    settings: ArxivSettings,
    name: str,
    *,
    since: date,
    until: date,
    limit: int = MAX_RESULTS,
) -> AuthorBackfill:
    """Store the papers the API lists under the name, submitted from `since` to `until`, as
    the name matches when followed (a full name does not take bare initials)."""
    wanted = parse_name(name)
    if wanted is None or not wanted.given:
        raise FeedError(
            f"{name!r} is not an author's name: give a first name or initial and a surname"
        )
    if until < since:
        raise FeedError(f"--since {since} is after today ({until})")
    # The API filters by date already; a result outside the range is dropped all the same.
    results = [
        paper
        for paper in search_author(settings, name, since, until, limit=limit)
        if since <= paper.announced_on <= until
    ]
    least = least_fit(wanted)
    kept = [paper for paper in results if author_position(wanted, paper.authors, at_least=least)]
    with session_scope(engine) as session:
        counts = store_reference_papers(session, kept)
    logger.info("authors backfill %s: %d of %d result(s) kept", name, len(kept), len(results))
    return AuthorBackfill(
        found=len(kept), stored=counts.written, other_names=len(results) - len(kept)
    )
