"""What a listing says of a paper (Announcement) and of a day (Feed): values, made by parsers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from paperradar.store.states import AnnounceType
from paperradar.text import paper_text, text_sha


@dataclass(frozen=True)
class Announcement:
    """One paper as a listing announced it: version-stripped id, its text, and how."""

    arxiv_id: str
    version: int
    title: str
    abstract: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    announce_type: AnnounceType
    announced_on: date
    comment: str | None = None
    doi: str | None = None
    journal_ref: str | None = None
    affiliations: tuple[str, ...] = ()

    @property
    def text_sha(self) -> str:
        """The key of everything derived from the text, equal to the embedding cache key."""
        return text_sha(paper_text(self.title, self.abstract))


@dataclass(frozen=True)
class Feed:
    """A parsed listing: the day it announces (None when undated and empty) and its papers."""

    announced_on: date | None
    announcements: tuple[Announcement, ...]
    source: str
