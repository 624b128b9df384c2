"""What a stage reports back to the pipeline: how many records it wrote, and notable counts."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class StageReport:
    """One stage's outcome for one day; `note` says in words what a user should know."""

    stage: str
    written: int
    details: dict[str, int | float] = field(default_factory=dict)
    note: str | None = None
    # The counts in words, where the bare numbers would not explain themselves.
    summary: str | None = None

    def line(self) -> str:
        """Render the report as one human-readable line."""
        if self.summary:
            text = f"{self.stage}: {self.summary}"
        else:
            extras = ", ".join(f"{key} {value:g}" for key, value in self.details.items())
            text = f"{self.stage}: {self.written} written" + (f" ({extras})" if extras else "")
        return f"{text}: {self.note}" if self.note else text
