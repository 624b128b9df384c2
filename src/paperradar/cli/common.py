"""What the command groups share: day options, the database, the app, errors as one line.

Commands import the pipeline's modules inside their bodies: `paperradar --help` and
`paperradar status` must not pay for loading torch, faiss or python-telegram-bot.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import click

from paperradar.errors import PaperRadarError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from paperradar.app import App
    from paperradar.settings import Settings


class PaperRadarGroup(click.Group):
    """A click group that reports PaperRadarError as one line and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command, turning errors the user can fix into a ClickException."""
        try:
            return super().invoke(ctx)
        except PaperRadarError as error:
            from paperradar.settings.redaction import redact

            raise click.ClickException(redact(str(error))) from None


def parse_day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    """Read a YYYY-MM-DD option; None stays None."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from error


def read_settings() -> Settings:
    """Load the settings (init > env > YAML > defaults)."""
    from paperradar.settings import load_settings

    return load_settings()


def open_database(settings: Settings | None = None) -> Engine:
    """Return the configured database, migrated to the latest schema."""
    from paperradar.store.db import create_db_engine, migrate

    settings = settings or read_settings()
    engine = create_db_engine(settings.resolved_database_url)
    migrate(engine, settings.migrations_dir)
    return engine


def load_app(settings: Settings | None = None, *, current_profiles: bool = False) -> App:
    """Build the app (clients, database); with the topics chats and admins added if asked."""
    from paperradar.app import build_app, with_current_profiles

    app = build_app(settings or read_settings())
    return with_current_profiles(app) if current_profiles else app


def echo_rows(lines: list[str], *, none: str) -> None:
    """Print a listing, or say plainly that it is empty."""
    for line in lines or [none]:
        click.echo(line)
