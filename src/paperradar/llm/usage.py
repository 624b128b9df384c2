"""What summarising spent and found: each paper's outcome and the tally behind the run report."""

from __future__ import annotations

from dataclasses import dataclass, field

from paperradar.llm.client import Usage
from paperradar.settings.providers import PRICE_HINT, Price
from paperradar.store.records import Summary
from paperradar.store.states import SummaryStatus


@dataclass(frozen=True)
class Outcome:
    """A summary row and what writing it took: requests, faithfulness problems, affiliations."""

    summary: Summary
    calls: int = 0
    violations: int = 0
    # Read from the PDF this run (None: not asked), and what reading them cost.
    affiliations: tuple[str, ...] | None = None
    extra: Usage = field(default_factory=Usage)

    @property
    def is_unfaithful(self) -> bool:
        """Whether the summary failed because it kept naming what the abstract does not."""
        return self.summary.status == SummaryStatus.FAILED and self.violations > 0


@dataclass
class Tally:
    """What one run of the stage did and spent, summed as each paper finishes."""

    summarised: int = 0
    failed: int = 0
    unfaithful: int = 0
    violations: int = 0
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    pdf_affiliations: int = 0

    def add(self, outcome: Outcome) -> None:
        """Count one finished paper."""
        summary = outcome.summary
        if summary.status == SummaryStatus.OK:
            self.summarised += 1
        else:
            self.failed += 1
        self.unfaithful += outcome.is_unfaithful
        self.violations += outcome.violations
        self.calls += outcome.calls + outcome.extra.calls
        self.prompt_tokens += summary.prompt_tokens + outcome.extra.prompt_tokens
        self.completion_tokens += summary.completion_tokens + outcome.extra.completion_tokens
        self.pdf_affiliations += bool(outcome.affiliations)

    def details(self, *, cached: int, price: Price | None) -> dict[str, int | float]:
        """The report's numbers: outcomes, cache hits, calls, tokens, tokens per pick, cost."""
        papers = self.summarised + self.failed
        tokens = self.prompt_tokens + self.completion_tokens
        details: dict[str, int | float] = {
            "summarised": self.summarised,
            "failed": self.failed,
            "cached": cached,
            "calls": self.calls,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "tokens_per_pick": round(tokens / papers) if papers else 0,
            "faithfulness_violations": self.violations,
            "unfaithful": self.unfaithful,
        }
        if self.pdf_affiliations:
            details["pdf_affiliations"] = self.pdf_affiliations
        if price is not None:
            details["estimated_cost"] = round(
                price.cost(self.prompt_tokens, self.completion_tokens), 6
            )
        return details


def report_note(tally: Tally, price: Price | None) -> str | None:
    """Say in words what the numbers mean: failures, and whether cost could be estimated."""
    parts = []
    if tally.failed:
        unfaithful = f"{tally.failed} failed ({tally.unfaithful} unfaithful)"
        parts.append(f"{unfaithful}; retried on the next run")
    if price is None and tally.calls:
        parts.append(f"cost not estimated ({PRICE_HINT})")
    elif price is not None and tally.calls:
        parts.append(f"estimated cost in {price.currency}")
    return "; ".join(parts) or None
