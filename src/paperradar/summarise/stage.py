"""Summarise the day's picks bilingually, once per (text, model, prompt); failures are rows."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from tqdm import tqdm

from paperradar.errors import PaperRadarError, SourceUnavailableError
from paperradar.llm.client import LLMClient, RejectedReplyError, Usage
from paperradar.llm.prompts import Prompt, TopicBrief, load_prompt, render_prompt
from paperradar.llm.usage import Outcome, Tally, report_note
from paperradar.profiles.profile import Profile
from paperradar.rank.picks import day_matches, select_picks
from paperradar.reports import StageReport
from paperradar.settings.redaction import redact
from paperradar.store.db import session_scope
from paperradar.store.records import Paper, Summary
from paperradar.store.states import SummaryStatus
from paperradar.summarise.affiliations import AffiliationDraft, read_affiliations
from paperradar.summarise.contract import SummaryDraft, summary_fields
from paperradar.summarise.faithfulness import find_violations

logger = logging.getLogger(__name__)

NOT_CONFIGURED = "LLM not configured: digests show the original abstracts"


@dataclass(frozen=True)
class Prompts:
    """The prompts of one run: the summary's, and the affiliations' when PDFs are read."""

    summary: Prompt
    affiliations: Prompt | None = None


@dataclass(frozen=True)
class Job:
    """One paper to summarise and the topics it was picked for."""

    paper: Paper
    topics: tuple[TopicBrief, ...]


def faithfulness_check(
    paper: Paper, known_terms: Sequence[str]
) -> Callable[[SummaryDraft], list[str]]:
    """Return a check listing a draft's numbers, names, links not in the paper, and instructions."""
    source = f"{paper.title}\n{paper.abstract}"

    def check(draft: SummaryDraft) -> list[str]:
        found = find_violations(summary_fields(draft), source=source, known_terms=known_terms)
        return [violation.describe() for violation in found]

    return check


def summarize_paper(
    llm: LLMClient, prompt: Prompt, *, paper: Paper, topics: Sequence[TopicBrief]
) -> Outcome:
    """Summarise one paper; an unusable or unfaithful reply, or no answer, gives a `failed` row."""
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
            system,
            user,
            SummaryDraft,
            context={"topics": [topic.key for topic in topics]},
            check=faithfulness_check(paper, prompt.glossary.known_terms),
        )
    except RejectedReplyError as error:
        logger.warning("summary of %s failed: %s", paper.arxiv_id, error)
        return Outcome(_failed(key, error, error.usage), error.usage.calls, len(error.flagged))
    except SourceUnavailableError as error:
        logger.warning("summary of %s failed: %s", paper.arxiv_id, error)
        return Outcome(_failed(key, error, Usage()))
    if completion.flagged:
        logger.info("summary of %s repaired: %s", paper.arxiv_id, "; ".join(completion.flagged))
    summary = Summary.model_validate(
        {
            **completion.value.model_dump(),
            **key,
            "status": SummaryStatus.OK,
            "prompt_tokens": completion.usage.prompt_tokens,
            "completion_tokens": completion.usage.completion_tokens,
        }
    )
    return Outcome(summary, completion.usage.calls, len(completion.flagged))


def _failed(key: dict[str, str], error: PaperRadarError, usage: Usage) -> Summary:
    return Summary.model_validate(
        {
            **key,
            "status": SummaryStatus.FAILED,
            "error": redact(str(error)),
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
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


def _work(llm: LLMClient, prompts: Prompts, job: Job) -> Outcome:
    """Summarise one job's paper and, when asked for, read its affiliations from its PDF."""
    outcome = summarize_paper(llm, prompts.summary, paper=job.paper, topics=job.topics)
    if prompts.affiliations is None or job.paper.affiliations:
        return outcome
    found, usage = read_affiliations(llm, prompts.affiliations, job.paper)
    return replace(outcome, affiliations=tuple(found), extra=usage)


def _work_unless_stopped(
    stop: threading.Event, llm: LLMClient, prompts: Prompts, job: Job
) -> Outcome | None:
    """Run one job, unless an earlier job raised an error that stops the stage (None then).

    The event is set in the worker that failed, before it takes its next job, so no request
    starts after the stage is stopping, however late the main thread sees the error.
    """
    if stop.is_set():
        return None
    try:
        return _work(llm, prompts, job)
    except Exception:
        stop.set()
        raise


def _summarize_all(
    session: Session,
    llm: LLMClient,
    prompts: Prompts,
    *,
    jobs: Sequence[Job],
    previous: dict[str, Summary],
) -> Tally:
    """Summarise jobs in a thread pool, writing each row here as it finishes; return the tally."""
    tally = Tally()
    executor = ThreadPoolExecutor(llm.settings.concurrency, thread_name_prefix="summarize")
    bar = tqdm(total=len(jobs), desc="summarize", unit="paper", disable=not sys.stderr.isatty())
    stop = threading.Event()
    try:
        futures: dict[Future[Outcome | None], Job] = {
            executor.submit(_work_unless_stopped, stop, llm, prompts, job): job for job in jobs
        }
        # Only LLM calls run in the pool; the session stays in this thread, and each row is
        # committed as it arrives, so a crash keeps what was finished.
        for future in as_completed(futures):
            outcome, paper = future.result(), futures[future].paper
            if outcome is None:  # skipped: the failed job's error comes with its own future
                continue
            _store(session, outcome.summary, previous.get(paper.arxiv_id))
            if outcome.affiliations:
                paper.affiliations = list(outcome.affiliations)
                session.add(paper)
            session.commit()
            tally.add(outcome)
            bar.update()
    finally:
        bar.close()
        # On an error that stops the stage (a rejected key), drop the calls not yet started.
        executor.shutdown(wait=True, cancel_futures=True)
    return tally


def run(
    engine: Engine,
    day: date,
    *,
    llm: LLMClient | None,
    profiles: Sequence[Profile],
    prompts_dir: Path,
) -> StageReport:
    """Summarise the day's picks not yet summarised by this model and prompt."""
    if llm is None:
        return StageReport("summarize", written=0, note=NOT_CONFIGURED)
    prompts = Prompts(
        summary=load_prompt(prompts_dir, schema=SummaryDraft),
        affiliations=(
            load_prompt(prompts_dir, "affiliations", schema=AffiliationDraft)
            if llm.settings.affiliations_from_pdf
            else None
        ),
    )
    with session_scope(engine) as session:
        jobs = collect_jobs(session, profiles, day)
        previous = _existing(session, jobs, llm.model, prompts.summary.sha)
        todo = [
            job
            for job in jobs
            if (row := previous.get(job.paper.arxiv_id)) is None or row.status != SummaryStatus.OK
        ]
        tally = _summarize_all(session, llm, prompts, jobs=todo, previous=previous)
    cached = len(jobs) - len(todo)
    price = llm.settings.price
    logger.debug(
        "summarize: %d summarised, %d failed, %d cached, %d tokens",
        tally.summarised,
        tally.failed,
        cached,
        tally.prompt_tokens + tally.completion_tokens,
    )
    return StageReport(
        "summarize",
        written=tally.summarised + tally.failed,
        details=tally.details(cached=cached, price=price),
        note=report_note(tally, price),
    )
