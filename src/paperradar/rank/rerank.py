"""The optional LLM re-rank: each topic's best candidates judged by the model, once each.

A judged candidate's score blends its cold score with the model's relevance (0-10), so it stays
in [0, 1] and its percent means what it meant before. A judgement is stored per paper text,
topic text, model and prompt: a re-run, or another profile with the same topic, asks nothing again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlmodel import Session, col, select

from paperradar.errors import ConfigError, PaperRadarError
from paperradar.ingest.papers import stored_papers
from paperradar.llm.client import LLMClient, RejectedReplyError, Usage
from paperradar.llm.prompts import Prompt, load_prompt
from paperradar.profiles.profile import Profile, Topic
from paperradar.rank.calibration import percent_of
from paperradar.rank.index import ScoredMatch, best_first
from paperradar.rank.reasons import MatchReason
from paperradar.rank.rerank_contract import (
    PaperJudgement,
    RerankDraft,
    render_request,
    topic_sha,
)
from paperradar.settings import RerankSettings
from paperradar.settings.providers import PRICE_HINT
from paperradar.settings.redaction import redact
from paperradar.store.records import Judgement, Paper
from paperradar.text import cut

logger = logging.getLogger(__name__)

NO_LLM = (
    "re-rank skipped: rerank.top is set but no LLM is configured "
    "(PAPERRADAR_LLM__BASE_URL, PAPERRADAR_LLM__MODEL); cold scores kept"
)
# The model's one-sentence why, as stored and as quoted in a match's reason.
STORED_WHY_CHARS = 200
REASON_WHY_CHARS = 100


def rescored(match: ScoredMatch, judgement: Judgement, weight: float) -> ScoredMatch:
    """Blend a match's cold score with the model's relevance and record it in its reason.

    The reason stays data (rank/reasons.py): the digest still quotes the evidence a reader can
    check, and the judgement is kept with it.
    """
    score = (1 - weight) * match.score + weight * judgement.relevance / 10
    why = cut(judgement.reason, REASON_WHY_CHARS)
    reason = (MatchReason.load(match.reason) or MatchReason()).with_judgement(
        judgement.relevance, why
    )
    return replace(match, score=score, percent=percent_of(score), reason=reason.dump())


@dataclass(frozen=True)
class TopicJob:
    """One topic's request: the papers among its best candidates not judged yet."""

    profile: str
    key: str
    topic: Topic
    sha: str
    papers: tuple[Paper, ...]

    @property
    def name(self) -> str:
        """The topic as reports and logs name it: `profile/topic`."""
        return f"{self.profile}/{self.key}"


@dataclass(frozen=True)
class Verdict:
    """What one request gave: a judgement per paper id, or the error; and what it cost."""

    job: TopicJob
    judged: dict[str, PaperJudgement]
    usage: Usage
    error: str | None = None


@dataclass(frozen=True)
class Judge:
    """The model and prompt that judge, and under which judgements are stored."""

    llm: LLMClient
    prompt: Prompt

    def stored(
        self, session: Session, papers: Mapping[str, Paper], shas: Iterable[str]
    ) -> dict[tuple[str, str], Judgement]:
        """Return the stored judgements of these papers' current texts and these topics, by
        (paper id, topic sha)."""
        rows = session.exec(
            select(Judgement).where(
                col(Judgement.paper_id).in_(sorted(papers)),
                col(Judgement.topic_sha).in_(sorted(set(shas))),
                Judgement.model == self.llm.model,
                Judgement.prompt_sha == self.prompt.sha,
            )
        )
        return {
            (row.paper_id, row.topic_sha): row
            for row in rows
            if row.text_sha == papers[row.paper_id].text_sha
        }

    def ask_all(self, jobs: Sequence[TopicJob]) -> list[Verdict]:
        """Ask about every job, `llm.concurrency` requests at a time."""
        if not jobs:
            return []
        with ThreadPoolExecutor(self.llm.settings.concurrency, "rerank") as executor:
            return list(executor.map(self.ask, jobs))

    def ask(self, job: TopicJob) -> Verdict:
        """Ask for one topic's judgements in one request; a failure is a verdict, not a raise."""
        system, user = render_request(self.prompt, job.topic, job.papers)
        try:
            reply = self.llm.complete_json(
                system, user, RerankDraft, context={"count": len(job.papers)}
            )
        except PaperRadarError as error:
            logger.warning("re-rank of %s failed: %s; cold scores kept", job.name, error)
            usage = error.usage if isinstance(error, RejectedReplyError) else Usage()
            return Verdict(job, {}, usage, error=redact(str(error)))
        judged = {job.papers[j.n - 1].arxiv_id: j for j in reply.value.judgements}
        return Verdict(job, judged, reply.usage)

    def row(self, paper: Paper, sha: str, judged: PaperJudgement) -> Judgement:
        """The record of one judgement."""
        return Judgement(
            paper_id=paper.arxiv_id,
            text_sha=paper.text_sha,
            topic_sha=sha,
            model=self.llm.model,
            prompt_sha=self.prompt.sha,
            relevance=judged.relevance,
            reason=cut(judged.why, STORED_WHY_CHARS),
        )


@dataclass
class Tally:
    """What the re-rank of one scoring run did and spent, summed over profiles."""

    usage: Usage = field(default_factory=Usage)
    judged: int = 0
    cached: int = 0
    failures: list[str] = field(default_factory=list)


class Reranker:
    """Re-scores each topic's best candidates by the model's stored or fresh judgements."""

    def __init__(
        self, settings: RerankSettings, judge: Judge | None = None, skipped: str | None = None
    ) -> None:
        self.settings = settings
        self.judge = judge
        self.skipped = skipped
        self.tally = Tally()

    @classmethod
    def of(cls, settings: RerankSettings, llm: LLMClient | None, prompts_dir: Path) -> Reranker:
        """The re-ranker the settings ask for: a no-op when off, or when it cannot run."""
        if settings.top == 0:
            return cls(settings)
        if llm is None:
            return cls(settings, skipped=NO_LLM)
        try:
            prompt = load_prompt(prompts_dir, "rerank", schema=RerankDraft)
        except ConfigError as error:
            return cls(settings, skipped=f"re-rank skipped: {error}; cold scores kept")
        return cls(settings, Judge(llm, prompt))

    def apply(
        self, session: Session, profile: Profile, matches: Sequence[ScoredMatch]
    ) -> list[ScoredMatch]:
        """Return the profile's matches with each topic's top ones re-scored, best first.

        A topic whose request failed keeps its cold scores, and nothing of it is stored, so
        the next run asks again.
        """
        if self.judge is None:
            return list(matches)
        by_topic = {key: best_first(m for m in matches if m.topic == key) for key in profile.topics}
        shas = {key: topic_sha(topic) for key, topic in profile.topics.items()}
        tops = {key: ranked[: self.settings.top] for key, ranked in by_topic.items()}
        papers = stored_papers(session, (m.paper_id for top in tops.values() for m in top))
        stored = self.judge.stored(session, papers, shas.values())
        missing = {
            key: [m.paper_id for m in top if (m.paper_id, shas[key]) not in stored]
            for key, top in tops.items()
        }
        self.tally.cached += sum(len(tops[key]) - len(ids) for key, ids in missing.items())
        jobs = _jobs(profile, missing, shas, papers)
        failed = {verdict.job.key for verdict in self._store_all(self.judge, session, jobs, stored)}
        return [
            match
            for key, ranked in by_topic.items()
            for match in (ranked if key in failed else self._rescore(ranked, shas[key], stored))
        ]

    def _store_all(
        self,
        judge: Judge,
        session: Session,
        jobs: Sequence[TopicJob],
        stored: dict[tuple[str, str], Judgement],
    ) -> list[Verdict]:
        """Ask about the jobs, store (and add to `stored`) what came back; return the failures."""
        failures = []
        for verdict in judge.ask_all(jobs):
            self.tally.usage += verdict.usage
            if verdict.error is not None:
                self.tally.failures.append(f"{verdict.job.name}: {verdict.error}")
                failures.append(verdict)
                continue
            papers = {paper.arxiv_id: paper for paper in verdict.job.papers}
            for paper_id, judged in verdict.judged.items():
                # Two topics of a profile with the same text ask about the same papers.
                if (paper_id, verdict.job.sha) not in stored:
                    row = judge.row(papers[paper_id], verdict.job.sha, judged)
                    stored[(paper_id, verdict.job.sha)] = row
                    session.add(row)
                    self.tally.judged += 1
        if jobs:
            # What was paid for is kept even if a later profile's scoring fails.
            session.commit()
        return failures

    def _rescore(
        self, ranked: Sequence[ScoredMatch], sha: str, stored: dict[tuple[str, str], Judgement]
    ) -> list[ScoredMatch]:
        """Re-score one topic's judged matches and re-sort the topic."""
        weight = self.settings.weight
        return best_first(
            rescored(m, judgement, weight) if (judgement := stored.get((m.paper_id, sha))) else m
            for m in ranked
        )

    def details(self) -> dict[str, int | float]:
        """The score report's re-rank numbers: calls, tokens, judgements new and cached, cost."""
        if self.judge is None:
            return {}
        usage = self.tally.usage
        details: dict[str, int | float] = {
            "re-rank calls": usage.calls,
            "re-rank judged": self.tally.judged,
            "re-rank cached": self.tally.cached,
            "re-rank prompt_tokens": usage.prompt_tokens,
            "re-rank completion_tokens": usage.completion_tokens,
        }
        price = self.judge.llm.settings.price
        if price is not None:
            cost = price.cost(usage.prompt_tokens, usage.completion_tokens)
            details["re-rank estimated_cost"] = round(cost, 6)
        return details

    def note(self) -> str | None:
        """Say in words what a user should know: skipped, failed topics, how cost was estimated."""
        if self.judge is None:
            return self.skipped
        parts = [
            f"re-rank failed for {failure}; cold scores kept" for failure in self.tally.failures
        ]
        price = self.judge.llm.settings.price
        if self.tally.usage.calls:
            parts.append(
                f"re-rank cost in {price.currency}"
                if price is not None
                else f"re-rank cost not estimated ({PRICE_HINT})"
            )
        return "; ".join(parts) or None


def _jobs(
    profile: Profile,
    missing: Mapping[str, list[str]],
    shas: Mapping[str, str],
    papers: Mapping[str, Paper],
) -> list[TopicJob]:
    """Return one request per topic with top candidates not judged yet."""
    return [
        TopicJob(
            profile.name,
            key,
            profile.topics[key],
            shas[key],
            tuple(papers[paper_id] for paper_id in ids),
        )
        for key, ids in missing.items()
        if ids
    ]
