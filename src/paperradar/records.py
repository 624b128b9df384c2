"""SQLModel tables: every record a stage writes, under the key that makes re-runs idempotent."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utc_now() -> datetime:
    """Return the current time in UTC (stored naive-free)."""
    return datetime.now(UTC)


class AnnounceType(StrEnum):
    """How an arXiv listing announces a paper."""

    NEW = "new"
    CROSS = "cross"
    REPLACE = "replace"
    REPLACE_CROSS = "replace-cross"

    @property
    def is_candidate(self) -> bool:
        """Whether this announcement can bring a paper into a digest."""
        return self in (AnnounceType.NEW, AnnounceType.CROSS)


class DayStatus(StrEnum):
    """What arXiv did on a day."""

    ANNOUNCED = "announced"
    NO_ANNOUNCEMENT = "no_announcement"


class SummaryStatus(StrEnum):
    """Outcome of summarising one paper."""

    OK = "ok"
    FAILED = "failed"


class Paper(SQLModel, table=True):
    """One arXiv paper, version-stripped id; a replacement updates it in place."""

    arxiv_id: str = Field(primary_key=True, max_length=64)
    version: int = 1
    title: str = Field(sa_column=Column(Text, nullable=False))
    abstract: str = Field(sa_column=Column(Text, nullable=False))
    authors: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    comment: str | None = Field(default=None, sa_column=Column(Text))
    doi: str | None = None
    journal_ref: str | None = Field(default=None, sa_column=Column(Text))
    announce_type: AnnounceType | None = None
    # The day the paper first became a candidate; None for papers only known as seeds.
    first_announced_on: date | None = Field(default=None, index=True)
    last_announced_on: date | None = None
    text_sha: str = Field(max_length=64)
    updated_at: datetime = Field(default_factory=utc_now)


class FeedDay(SQLModel, table=True):
    """What a fetch found for one announcement day, including 'no announcement'."""

    day: date = Field(primary_key=True)
    status: DayStatus
    source: str
    new_count: int = 0
    cross_count: int = 0
    replace_count: int = 0
    raw_path: str | None = None
    fetched_at: datetime = Field(default_factory=utc_now)


class Embedding(SQLModel, table=True):
    """A paper's vector for one model and one exact text: nothing is embedded twice."""

    __table_args__ = (UniqueConstraint("paper_id", "model", "text_sha"),)

    id: int | None = Field(default=None, primary_key=True)
    paper_id: str = Field(foreign_key="paper.arxiv_id", index=True, max_length=64)
    model: str = Field(max_length=200)
    text_sha: str = Field(max_length=64)
    dim: int
    vector: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Match(SQLModel, table=True):
    """A paper scored against one topic of one profile, with its percent and reason."""

    __table_args__ = (UniqueConstraint("paper_id", "profile", "topic"),)

    id: int | None = Field(default=None, primary_key=True)
    paper_id: str = Field(foreign_key="paper.arxiv_id", index=True, max_length=64)
    profile: str = Field(max_length=100)
    topic: str = Field(max_length=100)
    day: date = Field(index=True)
    score: float
    percent: int
    reason: str = Field(sa_column=Column(Text, nullable=False))


class Summary(SQLModel, table=True):
    """The LLM's bilingual summary of one paper text, once per (model, prompt)."""

    __table_args__ = (UniqueConstraint("paper_id", "text_sha", "model", "prompt_sha"),)

    id: int | None = Field(default=None, primary_key=True)
    paper_id: str = Field(foreign_key="paper.arxiv_id", index=True, max_length=64)
    text_sha: str = Field(max_length=64)
    model: str = Field(max_length=200)
    prompt_sha: str = Field(max_length=64)
    status: SummaryStatus
    title_zh: str | None = Field(default=None, sa_column=Column(Text))
    tldr_zh: str | None = Field(default=None, sa_column=Column(Text))
    tldr_en: str | None = Field(default=None, sa_column=Column(Text))
    # {topic_key: {"zh": ..., "en": ...}}
    why_by_topic: dict[str, dict[str, str]] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    abstract_zh: str | None = Field(default=None, sa_column=Column(Text))
    error: str | None = Field(default=None, sa_column=Column(Text))
    prompt_tokens: int = 0
    completion_tokens: int = 0
    created_at: datetime = Field(default_factory=utc_now)


class Digest(SQLModel, table=True):
    """One profile's digest of one announcement day."""

    __table_args__ = (UniqueConstraint("profile", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    profile: str = Field(max_length=100)
    day: date
    announced: bool
    candidates: int
    created_at: datetime = Field(default_factory=utc_now)


class DigestItem(SQLModel, table=True):
    """One pick in a digest, in topic order then rank."""

    __table_args__ = (UniqueConstraint("digest_id", "topic", "paper_id"),)

    id: int | None = Field(default=None, primary_key=True)
    digest_id: int = Field(foreign_key="digest.id", index=True)
    topic: str = Field(max_length=100)
    rank: int
    paper_id: str = Field(foreign_key="paper.arxiv_id", max_length=64)
    match_id: int = Field(foreign_key="match.id")
