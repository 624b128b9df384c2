"""The states and kinds rows are in: plain enums, importable without the database layer."""

from enum import StrEnum


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


class DeliveryStatus(StrEnum):
    """Where one digest stands with one recipient of one channel."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class DigestLanguage(StrEnum):
    """Which languages a recipient reads a digest in."""

    ZH = "zh"
    EN = "en"
    BOTH = "both"


class RunStatus(StrEnum):
    """Where a pipeline run stands; a run whose process died is marked interrupted later."""

    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
