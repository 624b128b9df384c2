"""Summarise the day's picks bilingually, once per (text, model, prompt); failures are rows."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Annotated, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    model_validator,
)
from sqlmodel import Session, col, select
from tqdm import tqdm

from paperradar.digests import day_matches, select_picks
from paperradar.errors import LLMOutputError, SourceUnavailableError
from paperradar.llm import LLMClient
from paperradar.profiles import Profile
from paperradar.prompts import Prompt, TopicBrief, load_prompt, render_prompt
from paperradar.records import Paper, Summary, SummaryStatus
from paperradar.reports import StageReport
from paperradar.store import session_scope

if TYPE_CHECKING:
    from paperradar.context import Context

logger = logging.getLogger(__name__)

NOT_CONFIGURED = "LLM not configured: digests show the original abstracts"

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class TopicReason(BaseModel):
    """Why a paper hits one topic, in both languages."""

    model_config = ConfigDict(extra="forbid")

    zh: NonEmpty = Field(description="One Chinese sentence: what in this paper makes it relevant.")
    en: NonEmpty = Field(description="One English sentence: what in this paper makes it relevant.")


class SummaryDraft(BaseModel):
    """A bilingual briefing of one arXiv paper.

    This is the LLM's output contract: the prompt shows its JSON schema (this docstring and the
    field descriptions included), so the prompt and the validator cannot drift.
    """

    model_config = ConfigDict(extra="forbid")

    # The translation comes before the TL;DRs so the model has read the whole text when it
    # condenses it.
    title_zh: NonEmpty = Field(description="The paper's title in Chinese.")
    abstract_zh: NonEmpty = Field(
        description="A complete, faithful Chinese translation of the whole abstract; LaTeX, "
        "numbers and names kept exactly as written."
    )
    tldr_zh: NonEmpty = Field(
        description="One Chinese sentence (at most 80 characters) naming the method and its "
        "main result."
    )
    tldr_en: NonEmpty = Field(
        description="One English sentence naming the method and its main result."
    )
    why_by_topic: dict[str, TopicReason] = Field(
        description="Exactly one entry per matched topic key given in the request."
    )

    @model_validator(mode="after")
    def _one_reason_per_requested_topic(self, info: ValidationInfo) -> Self:
        requested = (info.context or {}).get("topics")
        if requested is not None and set(self.why_by_topic) != set(requested):
            raise ValueError(
                f"why_by_topic must have exactly the keys {sorted(requested)}, "
                f"not {sorted(self.why_by_topic)}"
            )
        return self


@dataclass(frozen=True)
class Job:
    """One paper to summarise and the topics it was picked for."""

    paper: Paper
    topics: tuple[TopicBrief, ...]


def summarize_paper(
    llm: LLMClient, prompt: Prompt, *, paper: Paper, topics: Sequence[TopicBrief]
) -> Summary:
    """Summarise one paper; an unusable reply or an unreachable LLM gives a `failed` row."""
    key = {
        "paper_id": paper.arxiv_id,
        "text_sha": paper.text_sha,
        "model": llm.model,
        "prompt_sha": prompt.sha,
    }
    system, user = render_prompt(
        prompt, title=paper.title, abstract=paper.abstract, authors=paper.authors, topics=topics
    )
    try:
        completion = llm.complete_json(
            system, user, SummaryDraft, context={"topics": [topic.key for topic in topics]}
        )
    except (LLMOutputError, SourceUnavailableError) as error:
        logger.warning("summary of %s failed: %s", paper.arxiv_id, error)
        return Summary.model_validate({**key, "status": SummaryStatus.FAILED, "error": str(error)})
    return Summary.model_validate(
        {
            **completion.value.model_dump(),
            **key,
            "status": SummaryStatus.OK,
            "prompt_tokens": completion.prompt_tokens,
            "completion_tokens": completion.completion_tokens,
        }
    )


def collect_jobs(session: Session, profiles: Sequence[Profile], day: date) -> list[Job]:
    """Return each paper picked by any profile on the day, once, with every topic it hits."""
    topics_by_paper: dict[str, dict[str, TopicBrief]] = {}
    for profile in profiles:
        for pick in select_picks(day_matches(session, profile, day), profile):
            topics = topics_by_paper.setdefault(pick.match.paper_id, {})
            # The topics a pick also clears travel with it, so each gets its own "why".
            for key in (pick.topic, *(match.topic for match in pick.also)):
                topic = profile.topics[key]
                topics.setdefault(key, TopicBrief(key, topic.title, topic.description))
    if not topics_by_paper:
        return []
    papers = session.exec(select(Paper).where(col(Paper.arxiv_id).in_(list(topics_by_paper))))
    by_id = {paper.arxiv_id: paper for paper in papers}
    return [
        Job(by_id[paper_id], tuple(topics.values())) for paper_id, topics in topics_by_paper.items()
    ]


def _existing(session: Session, jobs: Sequence[Job], model: str, sha: str) -> dict[str, Summary]:
    """Return the stored summaries of the jobs' current texts under this model and prompt."""
    texts = {job.paper.arxiv_id: job.paper.text_sha for job in jobs}
    rows = session.exec(
        select(Summary).where(
            col(Summary.paper_id).in_(list(texts)),
            Summary.model == model,
            Summary.prompt_sha == sha,
        )
    )
    return {row.paper_id: row for row in rows if row.text_sha == texts[row.paper_id]}


def _store(session: Session, summary: Summary, previous: Summary | None) -> None:
    """Add a new summary, or overwrite a failed one in place (its key is the same)."""
    if previous is None:
        session.add(summary)
        return
    for name in Summary.model_fields:
        if name != "id":
            setattr(previous, name, getattr(summary, name))


def _summarize_all(
    session: Session,
    llm: LLMClient,
    prompt: Prompt,
    *,
    jobs: Sequence[Job],
    previous: dict[str, Summary],
) -> dict[str, int]:
    """Summarise jobs in a thread pool, writing each row here as it finishes; return counts."""
    counts = dict.fromkeys(("summarised", "failed", "prompt_tokens", "completion_tokens"), 0)
    executor = ThreadPoolExecutor(llm.settings.concurrency, thread_name_prefix="summarize")
    bar = tqdm(total=len(jobs), desc="summarize", unit="paper", disable=not sys.stderr.isatty())
    try:
        futures: dict[Future[Summary], str] = {
            executor.submit(
                summarize_paper, llm, prompt, paper=job.paper, topics=job.topics
            ): job.paper.arxiv_id
            for job in jobs
        }
        # Only LLM calls run in the pool; the session stays in this thread, and each row is
        # committed as it arrives, so a crash keeps what was finished.
        for future in as_completed(futures):
            summary = future.result()
            _store(session, summary, previous.get(futures[future]))
            session.commit()
            counts["summarised" if summary.status == SummaryStatus.OK else "failed"] += 1
            counts["prompt_tokens"] += summary.prompt_tokens
            counts["completion_tokens"] += summary.completion_tokens
            bar.update()
    finally:
        bar.close()
        # On an error that stops the stage (a rejected key), drop the calls not yet started.
        executor.shutdown(wait=True, cancel_futures=True)
    return counts


def run(ctx: Context, day: date) -> StageReport:
    """Summarise the day's picks not yet summarised by this model and prompt."""
    if ctx.llm is None:
        return StageReport("summarize", written=0, note=NOT_CONFIGURED)
    prompt = load_prompt(ctx.settings.prompts_dir, schema=SummaryDraft)
    with session_scope(ctx.engine) as session:
        jobs = collect_jobs(session, ctx.profiles, day)
        previous = _existing(session, jobs, ctx.llm.model, prompt.sha)
        todo = [
            job
            for job in jobs
            if (row := previous.get(job.paper.arxiv_id)) is None or row.status != SummaryStatus.OK
        ]
        counts = _summarize_all(session, ctx.llm, prompt, jobs=todo, previous=previous)
    summarised, failed = counts["summarised"], counts["failed"]
    cached = len(jobs) - len(todo)
    logger.info("summarize: %d summarised, %d failed, %d cached", summarised, failed, cached)
    return StageReport(
        "summarize",
        written=summarised + failed,
        details={
            "summarised": summarised,
            "failed": failed,
            "cached": cached,
            "prompt_tokens": counts["prompt_tokens"],
            "completion_tokens": counts["completion_tokens"],
        },
        note=f"{failed} failed; retried on the next run" if failed else None,
    )
