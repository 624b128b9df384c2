"""Commands that run or inspect the service: serve, status, health, and `web rebuild`."""

from __future__ import annotations

import click

from paperradar.cli.common import load_app, open_database, read_settings

ROLES = ("all", "scheduler", "bot", "web")


@click.command()
@click.option(
    "--role",
    type=click.Choice(ROLES),
    default="all",
    show_default=True,
    help="Run one part alone (several processes over one PostgreSQL database).",
)
def serve(role: str) -> None:
    """Run the service: the pipeline on arXiv's calendar, deliveries, the bot and the web."""
    from bot.__main__ import serve_until
    from paperradar.service.roles import serve_roles

    serve_roles(read_settings(), role, serve_until)


@click.command()
@click.option("--runs", "run_count", default=10, show_default=True, help="How many runs to show.")
def status(run_count: int) -> None:
    """Show the pipeline lock, the next jobs, the last runs and the deliveries still pending."""
    from paperradar.service.status import status_lines

    for line in status_lines(open_database(), runs=run_count):
        click.echo(line)


@click.command()
def health() -> None:
    """Exit 0 when the database answers and no scheduled job is overdue (for health checks)."""
    from paperradar.service.health import health_problems
    from paperradar.store.db import create_db_engine

    problems = health_problems(create_db_engine(read_settings().resolved_database_url))
    if problems:
        raise click.ClickException("; ".join(problems))
    click.echo("ok")


@click.group("web")
def web_archive() -> None:
    """The static web archive (written after every run, served by `serve --role web`)."""


@web_archive.command()
def rebuild() -> None:
    """Rewrite every page of the web archive, e.g. after an upgrade changed its templates."""
    from paperradar.web.stage import rebuild as rebuild_archive

    app = load_app()
    click.echo(f"{rebuild_archive(app.archive()).line()} → {app.settings.web_dir}")


COMMANDS = (serve, status, health, web_archive)
