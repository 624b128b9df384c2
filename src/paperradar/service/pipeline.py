"""The daily pipeline: a loop over idempotent stages, each reading and writing database rows."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta

from paperradar.app import App, with_current_profiles
from paperradar.compose import digests
from paperradar.deliver import outbox
from paperradar.embed import embeddings, novelty
from paperradar.ingest import fetch, seeds
from paperradar.rank import stage as scoring
from paperradar.reports import StageReport
from paperradar.service import runs
from paperradar.settings import RerankSettings
from paperradar.summarise import stage as summaries
from paperradar.web import stage as web

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stage:
    """One step of the pipeline, under the name its runs are recorded by."""

    # Stored in Run rows and crash points: never derive it from a module path.
    name: str
    run: Callable[[App, date], StageReport]
    # Stages that spend money or reach people; a dry run stops short of them.
    is_costly: bool = False


STAGES: tuple[Stage, ...] = (
    Stage(
        "seeds",
        lambda app, day: seeds.run(
            app.engine, day, profiles=app.profiles, settings=app.settings.arxiv
        ),
    ),
    Stage("fetch", lambda app, day: fetch.run(app.engine, day, settings=app.settings)),
    Stage(
        "embeddings",
        lambda app, day: embeddings.run(
            app.engine, day, embedder=app.embedder, profiles=app.profiles
        ),
    ),
    Stage("novelty", lambda app, day: novelty.run(app.engine, day, model=app.embedder.model_name)),
    Stage(
        "scoring",
        lambda app, day: scoring.run(
            app.engine, day, embedder=app.embedder, profiles=app.profiles, reranker=app.reranker()
        ),
    ),
    Stage(
        "summaries",
        lambda app, day: summaries.run(
            app.engine,
            day,
            llm=app.llm,
            profiles=app.profiles,
            prompts_dir=app.settings.prompts_dir,
        ),
        is_costly=True,
    ),
    Stage("digests", lambda app, day: digests.run(app.engine, day, profiles=app.profiles)),
    Stage("web", lambda app, day: web.run(app.archive(), day)),
    Stage("delivery", lambda app, day: outbox.run(app.outbox(), day), is_costly=True),
)
STAGE_NAMES = tuple(stage.name for stage in STAGES)


def run_stage(app: App, name: str, day: date) -> StageReport:
    """Run one stage by name, outside a recorded run (`paperradar deliver`, tests)."""
    (stage,) = (stage for stage in STAGES if stage.name == name)
    return stage.run(app, day)


def run_day(
    app: App, day: date, *, dry_run: bool = False, trigger: str = "cli"
) -> list[StageReport]:
    """Run every stage for one announcement day; a re-run resumes where a crash left off.

    One pipeline runs at a time (a lock row in the database), and each run is recorded as a
    Run row with its stage counts, or with the stage and error that stopped it.
    """
    reports = []
    ttl = timedelta(seconds=app.settings.schedule.lock_seconds)
    with runs.recorded(
        app.engine, day, trigger=trigger, dry_run=dry_run, lock_ttl=ttl, clock=app.clock
    ) as log:
        # Topics that chats and admins added since the last run are scored and delivered too.
        app = with_current_profiles(app)
        if dry_run:  # nothing that costs money: no LLM re-rank either
            app = replace(
                app, settings=app.settings.model_copy(update={"rerank": RerankSettings()})
            )
        for stage in STAGES:
            if dry_run and stage.is_costly:
                continue
            log.begin(stage.name)
            report = stage.run(app, day)
            logger.info("%s", report.line())
            log.add(report)
            reports.append(report)
    return reports
