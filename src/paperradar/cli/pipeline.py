"""Commands that run the pipeline or read what it made: demo, run, backfill, rank, show."""

from __future__ import annotations

import json
import time
from datetime import date
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import click

from paperradar.cli.common import load_app, parse_day, read_settings

if TYPE_CHECKING:
    from paperradar.app import App
    from paperradar.settings import Settings

DEMO_FEED = "demo/cs_cl_lg_ai_2025-10-16.jsonl.gz"


def _latest_digest_day(app: App) -> date | None:
    from sqlmodel import func, select

    from paperradar.store.db import session_scope
    from paperradar.store.records import Digest

    with session_scope(app.engine) as session:
        return session.exec(select(func.max(Digest.day))).one()


def _print_digests(app: App, day: date) -> None:
    from paperradar.compose.digests import view_digest
    from paperradar.compose.rendering import render_text
    from paperradar.store.db import session_scope
    from paperradar.web.stage import day_page

    with session_scope(app.engine) as session:
        for profile in app.profiles:
            view = view_digest(session, profile=profile, day=day)
            if view is None:
                click.echo(f"{profile.name}: no digest for {day}")
                continue
            click.echo(render_text(view))
            click.echo(f"Web: {day_page(app.settings, profile.name, day)}\n")


def _run_and_print(settings: Settings, day: date | None, *, dry_run: bool) -> None:
    from paperradar.ingest import fetch
    from paperradar.service import pipeline

    app = load_app(settings)
    day = day or fetch.latest_day(settings)
    started = time.perf_counter()
    reports = pipeline.run_day(app, day, dry_run=dry_run)
    _print_digests(app, day)
    click.echo(
        f"{day}: {len(reports)} stages finished in {time.perf_counter() - started:.1f} s", err=True
    )


@click.command()
def demo() -> None:
    """Run the pipeline on a real arXiv day shipped with PaperRadar (no network, no keys).

    The demo never spends or sends: it calls no LLM and delivers to no subscriber.
    """
    settings = read_settings()
    with resources.as_file(resources.files("paperradar") / DEMO_FEED) as feed_file:
        arxiv = settings.arxiv.model_copy(update={"feed_file": feed_file})
        _run_and_print(settings.model_copy(update={"arxiv": arxiv}), None, dry_run=True)


@click.command()
@click.option("--day", callback=parse_day, help="Announcement day (YYYY-MM-DD); default: latest.")
@click.option(
    "--feed", type=click.Path(exists=True, path_type=Path), help="Read a saved feed file."
)
@click.option("--dry-run", is_flag=True, help="Fetch, score and compose, but call no LLM.")
def run(day: date | None, feed: Path | None, dry_run: bool) -> None:
    """Run the daily pipeline for one announcement day from live arXiv (or a saved feed)."""
    settings = read_settings()
    if feed is not None:
        settings = settings.model_copy(
            update={"arxiv": settings.arxiv.model_copy(update={"feed_file": feed})}
        )
        if day is not None:
            from paperradar.ingest.fetch import check_file_holds

            check_file_holds(feed, settings.arxiv, day)
    _run_and_print(settings, day, dry_run=dry_run)


@click.command()
@click.option("--from", "start", required=True, callback=parse_day, help="First day (YYYY-MM-DD).")
@click.option("--to", "end", required=True, callback=parse_day, help="Last day (YYYY-MM-DD).")
def backfill(start: date, end: date) -> None:
    """Store a date range of papers from the arXiv API; then `run --day D` digests a day."""
    from paperradar.ingest import arxiv_api

    if end < start:
        raise click.BadParameter("--to is before --from")
    app = load_app()
    for report in arxiv_api.backfill(app.engine, app.settings.arxiv, start, end):
        click.echo(report.line())


@click.command()
@click.option("--papers", required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--profile", "profile_file", required=True, type=click.Path(exists=True, path_type=Path)
)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def rank(papers: Path, profile_file: Path, out: Path) -> None:
    """Rank every paper of a JSONL/XML file for each topic of a profile (eval.py's format)."""
    from paperradar.profiles.profile import load_profile
    from paperradar.rank.rank_file import rank_papers_file

    app = load_app()
    started = time.perf_counter()
    result = rank_papers_file(
        app.engine, app.embedder, papers, load_profile(profile_file), today=app.clock().date()
    )
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    total = max((len(ids) for ids in result.values()), default=0)
    seconds = time.perf_counter() - started
    click.echo(f"ranked {total} papers for {len(result)} topics in {seconds:.1f} s → {out}")


@click.command()
@click.option(
    "--day", callback=parse_day, help="Announcement day (YYYY-MM-DD); default: the latest digest."
)
def show(day: date | None) -> None:
    """Print the stored digests of a day."""
    app = load_app()
    day = day or _latest_digest_day(app)
    if day is None:
        click.echo("no digest yet: `paperradar demo` or `paperradar run` makes one")
        return
    _print_digests(app, day)


COMMANDS = (demo, run, backfill, rank, show)
