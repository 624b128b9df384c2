"""SQLModel tables: every record a stage writes, under the key that makes re-runs idempotent."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import JSON, Column, Float, LargeBinary, Text, Unicode, UniqueConstraint
from sqlmodel import Field, SQLModel

from paperradar.store.states import (
    AnnounceType,
    DayStatus,
    DeliveryStatus,
    DigestLanguage,
    RunStatus,
    SummaryStatus,
)


def utc_now() -> datetime:
    """Return the current time in UTC (stored naive-free)."""
    return datetime.now(UTC)


class Paper(SQLModel, table=True):
    """One arXiv paper, version-stripped id; a replacement updates it in place."""

    arxiv_id: str = Field(primary_key=True, max_length=64)
    version: int = 1
    title: str = Field(sa_column=Column(Text, nullable=False))
    abstract: str = Field(sa_column=Column(Text, nullable=False))
    authors: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Institutions as the source states them (arXiv's <arxiv:affiliation>, or the PDF's first
    # page when that setting is on), in author order; empty when unknown, never guessed.
    affiliations: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
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


class TextEmbedding(SQLModel, table=True):
    """The vector of a text that is not a paper (a topic's description, a keyword), per model:
    a run whose papers are all embedded loads no model at all."""

    __table_args__ = (UniqueConstraint("model", "text_sha"),)

    id: int | None = Field(default=None, primary_key=True)
    model: str = Field(max_length=200)
    text_sha: str = Field(max_length=64)
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


class Judgement(SQLModel, table=True):
    """The LLM's relevance of one paper's text to one topic's text, once per (model, prompt)."""

    __table_args__ = (UniqueConstraint("paper_id", "text_sha", "topic_sha", "model", "prompt_sha"),)

    id: int | None = Field(default=None, primary_key=True)
    paper_id: str = Field(foreign_key="paper.arxiv_id", index=True, max_length=64)
    # The paper's text as judged: a replacement with a new abstract is judged anew.
    text_sha: str = Field(max_length=64)
    # The hash of the topic's title, description and keywords: an edited topic is judged anew.
    topic_sha: str = Field(max_length=64)
    model: str = Field(max_length=200)
    prompt_sha: str = Field(max_length=64)
    relevance: int  # 0 (unrelated) to 10 (squarely on the topic)
    reason: str = Field(max_length=200)
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


class PaperRevision(SQLModel, table=True):
    """A replaced version's title and abstract, kept when a digest had shown the paper: what the
    reader was sent, for the update that lists the new version."""

    __table_args__ = (UniqueConstraint("paper_id", "new_version"),)

    id: int | None = Field(default=None, primary_key=True)
    paper_id: str = Field(foreign_key="paper.arxiv_id", index=True, max_length=64)
    old_version: int
    new_version: int
    title: str = Field(sa_column=Column(Text, nullable=False))
    abstract: str = Field(sa_column=Column(Text, nullable=False))
    # The announcement day of the replacement.
    day: date = Field(index=True)
    created_at: datetime = Field(default_factory=utc_now)


class DigestUpdate(SQLModel, table=True):
    """A new version of a paper an earlier digest of the same profile showed, listed in this one;
    what changed is computed once, when the digest is composed."""

    __table_args__ = (UniqueConstraint("digest_id", "paper_id"),)

    id: int | None = Field(default=None, primary_key=True)
    digest_id: int = Field(foreign_key="digest.id", index=True)
    paper_id: str = Field(foreign_key="paper.arxiv_id", max_length=64)
    old_version: int
    new_version: int
    # The day of the first digest that showed the paper, and the topics it was picked under.
    first_sent_on: date
    topics: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The title the reader was sent, when the new version changed it.
    old_title: str | None = Field(default=None, sa_column=Column(Text))
    abstract_changed: bool = False
    words_added: int = 0
    words_removed: int = 0
    sentences_added: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    sentences_revised: int = 0
    sentences_removed: int = 0


class Delivery(SQLModel, table=True):
    """The outbox: one digest for one recipient of one channel, sent part by part."""

    __table_args__ = (UniqueConstraint("digest_id", "channel", "recipient"),)

    id: int | None = Field(default=None, primary_key=True)
    digest_id: int = Field(foreign_key="digest.id", index=True)
    channel: str = Field(max_length=32)
    recipient: str = Field(max_length=320)
    status: DeliveryStatus = Field(default=DeliveryStatus.PENDING, index=True)
    # The rendered parts, frozen once the first one is sent, so a re-run resumes the same text.
    parts: list[dict[str, object]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    parts_total: int = 0
    parts_sent: int = 0
    message_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)
    sent_at: datetime | None = None
    # The delivery worker sending it now, until when (a worker that dies lets go at expiry).
    claimed_by: str | None = Field(default=None, max_length=200)
    claimed_until: datetime | None = None


class Subscription(SQLModel, table=True):
    """A recipient of one channel: the shared profile's topics it reads and how it reads them."""

    __table_args__ = (UniqueConstraint("channel", "recipient"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    # A Telegram chat id, an e-mail address, a WeCom webhook name.
    recipient: str = Field(max_length=320)
    # The shared profile whose topics `topics` names (the recipient's own topics are rows of
    # CustomTopic under the profile `sub-<id>`).
    profile: str = Field(max_length=100)
    topics: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # None: the profile's languages, each topic's minimum and cap, the default delivery time
    # (`HH:MM`) and time zone (an IANA name).
    language: DigestLanguage | None = None
    min_percent: int | None = None
    max_items: int | None = None
    delivery_time: str | None = Field(default=None, max_length=5)
    timezone: str | None = Field(default=None, max_length=64)
    active: bool = True
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)


class CustomTopic(SQLModel, table=True):
    """A topic added at run time: a chat's own (profile `sub-<id>`) or an admin's shared one."""

    __table_args__ = (UniqueConstraint("profile", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    profile: str = Field(max_length=100, index=True)
    key: str = Field(max_length=64)
    # As the user wrote them, in any language.
    title: str = Field(sa_column=Column(Text, nullable=False))
    description: str = Field(sa_column=Column(Text, nullable=False))
    keywords: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The English the topic is scored with when it was written in another language.
    title_en: str | None = Field(default=None, sa_column=Column(Text))
    description_en: str | None = Field(default=None, sa_column=Column(Text))
    keywords_en: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    min_percent: int = 40
    max_picks: int = 8
    created_by: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utc_now)


class FollowedAuthor(SQLModel, table=True):
    """An author a chat follows (profile `sub-<id>`): the name as typed, folded, maybe pinned
    to one paper of theirs when several people share the name (readers/authors.py)."""

    __table_args__ = (UniqueConstraint("profile", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    profile: str = Field(max_length=100, index=True)
    name: str = Field(max_length=120)
    key: str = Field(max_length=200)
    pinned_paper: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utc_now)


class Novelty(SQLModel, table=True):
    """How far a paper sits from the papers before it (embed/novelty.py), once per model."""

    __table_args__ = (UniqueConstraint("paper_id", "model"),)

    id: int | None = Field(default=None, primary_key=True)
    paper_id: str = Field(foreign_key="paper.arxiv_id", index=True, max_length=64)
    model: str = Field(max_length=200)
    day: date = Field(index=True)
    # 1 - the mean cosine to its nearest earlier papers, and its percentile among the day's.
    value: float
    percent: int
    # How many earlier papers it was compared with (fewer than k in a young archive).
    neighbours: int


class Feedback(SQLModel, table=True):
    """A reader's 👍 (+1) or 👎 (-1) on a paper picked for a topic; the ranker learns from it."""

    __table_args__ = (UniqueConstraint("paper_id", "profile", "topic", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    paper_id: str = Field(foreign_key="paper.arxiv_id", index=True, max_length=64)
    profile: str = Field(max_length=100, index=True)
    topic: str = Field(max_length=100)
    channel: str = Field(max_length=32)
    chat: str | None = Field(default=None, max_length=320)
    user_id: str = Field(max_length=100)
    value: int
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)


class Run(SQLModel, table=True):
    """One pipeline run of one day: who ran it, each stage's counts, and what failed."""

    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(index=True)
    status: RunStatus
    # What started it: "cli", "schedule", "catch-up", "retry".
    trigger: str = Field(max_length=50)
    dry_run: bool = False
    holder: str = Field(max_length=200)
    # The stage running now, or the one that failed.
    stage: str | None = Field(default=None, max_length=50)
    # [{"stage": ..., "written": ..., "details": {...}, "note": ...}, ...] in stage order.
    reports: list[dict[str, object]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    error: str | None = Field(default=None, sa_column=Column(Text))
    started_at: datetime = Field(default_factory=utc_now)
    finished_at: datetime | None = None


class PipelineLock(SQLModel, table=True):
    """A lock row: one pipeline at a time across processes; it frees itself at `expires_at`."""

    name: str = Field(primary_key=True, max_length=50)
    # host:pid:token of the process holding it.
    holder: str = Field(max_length=200)
    acquired_at: datetime
    expires_at: datetime


class ScheduledJob(SQLModel, table=True):
    """APScheduler's job table (its SQLAlchemyJobStore layout), declared so migrations own it."""

    __tablename__ = "apscheduler_jobs"

    id: str = Field(sa_column=Column(Unicode(191), primary_key=True))
    next_run_time: float | None = Field(default=None, sa_column=Column(Float(25), index=True))
    job_state: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
