"""Commands about followed authors: `paperradar authors backfill NAME --since D`."""

from __future__ import annotations

from datetime import date

import click

from paperradar.cli.common import load_app, parse_day


@click.group()
def authors() -> None:
    """Followed authors: fill a researcher's page from the arXiv API."""


@authors.command()
@click.argument("name")
@click.option(
    "--since", required=True, callback=parse_day, help="First submission day (YYYY-MM-DD)."
)
def backfill(name: str, since: date) -> None:
    """Store NAME's papers since a day from the arXiv API (one request per 3 s, as always)."""
    from paperradar.ingest.author_backfill import backfill_author

    app = load_app()
    found = backfill_author(
        app.engine, app.settings.arxiv, name, since=since, until=app.clock().date()
    )
    click.echo(found.line(name, since))


COMMANDS = (authors,)
