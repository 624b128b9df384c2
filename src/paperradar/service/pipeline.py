"""The daily pipeline: a loop over idempotent stages, each reading and writing database rows."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta

from paperradar.app import Context, with_current_profiles
from paperradar.compose import digests
from paperradar.deliver import outbox as delivery
from paperradar.embed import embeddings
from paperradar.ingest import fetch, seeds
from paperradar.rank import stage as scoring
from paperradar.reports import StageReport
from paperradar.service import runs
from paperradar.settings import RerankSettings
from paperradar.summarise import stage as summaries
from paperradar.web import stage as web

logger = logging.getLogger(__name__)

Stage = Callable[[Context, date], StageReport]

STAGES: tuple[Stage, ...] = (
    seeds.run,
    fetch.run,
    embeddings.run,
    scoring.run,
    summaries.run,
    digests.run,
    web.run,
    delivery.run,
)
# Stages that spend money or reach people; a dry run stops short of them.
COSTLY_STAGES: frozenset[Stage] = frozenset({summaries.run, delivery.run})


def run_day(
    ctx: Context, day: date, *, dry_run: bool = False, trigger: str = "cli"
) -> list[StageReport]:
    """Run every stage for one announcement day; a re-run resumes where a crash left off.

    One pipeline runs at a time (a lock row in the database), and each run is recorded as a
    Run row with its stage counts, or with the stage and error that stopped it.
    """
    reports = []
    ttl = timedelta(seconds=ctx.settings.schedule.lock_seconds)
    with runs.recorded(
        ctx.engine, day, trigger=trigger, dry_run=dry_run, lock_ttl=ttl, clock=ctx.clock
    ) as log:
        # Topics that chats and admins added since the last run are scored and delivered too.
        ctx = with_current_profiles(ctx)
        if dry_run:  # nothing that costs money: no LLM re-rank either
            ctx = replace(
                ctx, settings=ctx.settings.model_copy(update={"rerank": RerankSettings()})
            )
        for stage in STAGES:
            if dry_run and stage in COSTLY_STAGES:
                continue
            log.begin(stage.__module__.rpartition(".")[2])
            report = stage(ctx, day)
            logger.info("%s", report.line())
            log.add(report)
            reports.append(report)
    return reports
