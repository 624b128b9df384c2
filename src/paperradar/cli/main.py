"""The `paperradar` command line: thin commands over the pipeline; user errors become one line."""

from __future__ import annotations

import json
import logging
import time
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import click

from paperradar.app import Context, build_context
from paperradar.cli import readers as cli_delivery
from paperradar.compose.digests import view_digest
from paperradar.compose.rendering import render_text
from paperradar.errors import PaperRadarError
from paperradar.ingest import arxiv_api, fetch
from paperradar.profiles.profile import load_profile, load_profiles
from paperradar.rank import rank_file as ranking
from paperradar.service import pipeline
from paperradar.service.health import health_problems
from paperradar.service.roles import ROLES, serve_roles
from paperradar.service.status import status_lines
from paperradar.settings import Settings, load_settings
from paperradar.store.copy import copy_database, display_url
from paperradar.store.db import create_db_engine, migrate, session_scope
from paperradar.web import stage as web

DEMO_FEED = "demo/cs_cl_lg_ai_2025-10-16.jsonl.gz"


class PaperRadarGroup(click.Group):
    """A click group that reports PaperRadarError as one line and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command, turning errors the user can fix into a ClickException."""
        try:
            return super().invoke(ctx)
        except PaperRadarError as error:
            raise click.ClickException(str(error)) from error


def _parse_day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from error


def _print_digests(ctx: Context, day: date) -> None:
    with session_scope(ctx.engine) as session:
        for profile in ctx.profiles:
            view = view_digest(session, profile=profile, day=day)
            if view is None:
                click.echo(f"{profile.name}: no digest for {day}")
                continue
            click.echo(render_text(view, llm_configured=ctx.llm is not None))
            click.echo(f"Web: {web.day_page(ctx.settings, profile.name, day)}\n")


def _run_and_print(settings: Settings, day: date | None, *, dry_run: bool) -> None:
    ctx = build_context(settings)
    day = day or fetch.latest_day(ctx)
    started = time.perf_counter()
    reports = pipeline.run_day(ctx, day, dry_run=dry_run)
    _print_digests(ctx, day)
    for report in reports:
        click.echo(report.line(), err=True)
    click.echo(f"{day}: pipeline finished in {time.perf_counter() - started:.1f} s", err=True)


@click.group(cls=PaperRadarGroup)
@click.option("-v", "--verbose", is_flag=True, help="Log debug details.")
def main(verbose: bool) -> None:
    """PaperRadar: your daily arXiv digest, ranked against your research profile."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    for noisy in ("httpx", "httpcore", "urllib3", "sentence_transformers", "arxiv"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@main.command()
def demo() -> None:
    """Run the pipeline on a real arXiv day shipped with PaperRadar (no network, no keys).

    The demo never spends or sends: it calls no LLM and delivers to no subscriber.
    """
    settings = load_settings()
    with resources.as_file(resources.files("paperradar") / DEMO_FEED) as feed_file:
        arxiv = settings.arxiv.model_copy(update={"feed_file": feed_file})
        _run_and_print(settings.model_copy(update={"arxiv": arxiv}), None, dry_run=True)


@main.command()
@click.option("--day", callback=_parse_day, help="Announcement day (YYYY-MM-DD); default: latest.")
@click.option(
    "--feed", type=click.Path(exists=True, path_type=Path), help="Read a saved feed file."
)
@click.option("--dry-run", is_flag=True, help="Fetch, score and compose, but call no LLM.")
def run(day: date | None, feed: Path | None, dry_run: bool) -> None:
    """Run the daily pipeline for one announcement day from live arXiv (or a saved feed)."""
    settings = load_settings()
    if feed is not None:
        settings = settings.model_copy(
            update={"arxiv": settings.arxiv.model_copy(update={"feed_file": feed})}
        )
    _run_and_print(settings, day, dry_run=dry_run)


@main.command()
@click.option("--from", "start", required=True, callback=_parse_day, help="First day (YYYY-MM-DD).")
@click.option("--to", "end", required=True, callback=_parse_day, help="Last day (YYYY-MM-DD).")
def backfill(start: date, end: date) -> None:
    """Store a date range of papers from the arXiv API; then `run --day D` digests a day."""
    if end < start:
        raise click.BadParameter("--to is before --from")
    ctx = build_context(load_settings())
    for report in arxiv_api.backfill(ctx, start, end):
        click.echo(report.line())


@main.command()
@click.option("--papers", required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--profile", "profile_file", required=True, type=click.Path(exists=True, path_type=Path)
)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def rank(papers: Path, profile_file: Path, out: Path) -> None:
    """Rank every paper of a JSONL/XML file for each topic of a profile (eval.py's format)."""
    ctx = build_context(load_settings())
    started = time.perf_counter()
    result = ranking.rank_papers_file(ctx, papers, load_profile(profile_file))
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    total = max((len(ids) for ids in result.values()), default=0)
    seconds = time.perf_counter() - started
    click.echo(f"ranked {total} papers for {len(result)} topics in {seconds:.1f} s → {out}")


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command()
def upgrade() -> None:
    """Apply the database migrations (also done automatically on start)."""
    settings = load_settings()
    migrate(create_db_engine(settings.resolved_database_url), settings.migrations_dir)
    click.echo(f"database at the latest schema: {settings.resolved_database_url}")


@main.group()
def profiles() -> None:
    """Research profiles."""


@profiles.command()
def check() -> None:
    """Validate every profile file and show each topic's anchors."""
    settings = load_settings()
    for profile in load_profiles(settings.profiles_dir):
        seeds_offline = sum(seed.has_text for seed in profile.seed_papers)
        click.echo(
            f"{profile.name}: {len(profile.topics)} topic(s), languages {profile.languages}, "
            f"{len(profile.seed_papers)} seed paper(s) ({seeds_offline} with inline text)"
        )
        for key, topic in profile.topics.items():
            click.echo(
                f"  {key}: {topic.title} · {len(topic.keywords)} keyword(s) · "
                f"≥{topic.min_percent}% · up to {topic.max_picks} picks"
            )


@main.command()
@click.option("--day", callback=_parse_day, help="Announcement day (YYYY-MM-DD); default: today.")
def show(day: date | None) -> None:
    """Print the stored digests of a day."""
    ctx = build_context(load_settings())
    _print_digests(ctx, day or datetime.now().astimezone().date())


@db.command("migrate-to")
@click.argument("url")
def migrate_to(url: str) -> None:
    """Copy every row of the configured database into an empty one at URL (e.g. PostgreSQL)."""
    settings = load_settings()
    source = create_db_engine(settings.resolved_database_url)
    counts = copy_database(source, create_db_engine(url), settings.migrations_dir)
    for table, count in counts.items():
        click.echo(f"{table}: {count} row(s)")
    click.echo(
        f"copied {sum(counts.values())} row(s) to {display_url(url)}; set "
        "PAPERRADAR_DATABASE_URL to it and restart PaperRadar"
    )


@main.command()
@click.option("--runs", "run_count", default=10, show_default=True, help="How many runs to show.")
def status(run_count: int) -> None:
    """Show the pipeline lock, the next jobs, the last runs and the deliveries still pending."""
    settings = load_settings()
    engine = create_db_engine(settings.resolved_database_url)
    migrate(engine, settings.migrations_dir)
    for line in status_lines(engine, runs=run_count):
        click.echo(line)


@main.command()
@click.option(
    "--role",
    type=click.Choice(ROLES),
    default="all",
    show_default=True,
    help="Run one part alone (several processes over one PostgreSQL database).",
)
def serve(role: str) -> None:
    """Run the service: the pipeline on arXiv's calendar, deliveries, the bot and the web."""
    serve_roles(load_settings(), role)


@main.command()
def health() -> None:
    """Exit 0 when the database answers and no scheduled job is overdue (for health checks)."""
    settings = load_settings()
    problems = health_problems(create_db_engine(settings.resolved_database_url))
    if problems:
        raise click.ClickException("; ".join(problems))
    click.echo("ok")


for command in cli_delivery.COMMANDS:
    main.add_command(command)


@main.group("web")
def web_archive() -> None:
    """The static web archive (written after every run, served by `serve --role web`)."""


@web_archive.command()
def rebuild() -> None:
    """Rewrite every page of the web archive, e.g. after an upgrade changed its templates."""
    ctx = build_context(load_settings())
    click.echo(f"{web.rebuild(ctx).line()} → {ctx.settings.web_dir}")
