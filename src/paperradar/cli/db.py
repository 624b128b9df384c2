"""Database and profile maintenance: `db upgrade`, `db migrate-to`, `profiles check`."""

from __future__ import annotations

import click

from paperradar.cli.common import open_database, read_settings
from paperradar.errors import ConfigError


@click.group()
def db() -> None:
    """Database maintenance."""


@db.command()
def upgrade() -> None:
    """Apply the database migrations (also done automatically on start)."""
    settings = read_settings()
    open_database(settings)
    click.echo(f"database at the latest schema: {settings.resolved_database_url}")


@db.command("migrate-to")
@click.argument("url")
def migrate_to(url: str) -> None:
    """Copy every row of the configured database into an empty one at URL (e.g. PostgreSQL)."""
    from paperradar.settings.database import check_database_url, display_url
    from paperradar.store.copy import copy_database
    from paperradar.store.db import create_db_engine

    try:
        check_database_url(url)
    except ValueError as error:
        raise ConfigError(f"migrate-to: {error}") from None
    settings = read_settings()
    source = create_db_engine(settings.resolved_database_url)
    counts = copy_database(source, create_db_engine(url), settings.migrations_dir)
    for table, count in counts.items():
        click.echo(f"{table}: {count} row(s)")
    click.echo(
        f"copied {sum(counts.values())} row(s) to {display_url(url)}; set "
        "PAPERRADAR_DATABASE_URL to it and restart PaperRadar"
    )


@click.group()
def profiles() -> None:
    """Research profiles."""


@profiles.command()
def check() -> None:
    """Validate every profile file and show each topic's anchors."""
    from paperradar.profiles.profile import load_profiles

    settings = read_settings()
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


COMMANDS = (db, profiles)
