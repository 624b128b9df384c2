"""The `paperradar` command line: the group, its logging, and every command group wired in."""

from __future__ import annotations

import click

from paperradar.cli import authors, db, pipeline, readers, service
from paperradar.cli.common import PaperRadarGroup


@click.group(cls=PaperRadarGroup)
@click.option("-v", "--verbose", is_flag=True, help="Log every detail, with times and names.")
def main(verbose: bool) -> None:
    """PaperRadar: your daily arXiv digest, ranked against your research profile."""
    from paperradar.service.console import configure_logging

    configure_logging(verbose=verbose)


for group in (pipeline, db, service, readers, authors):
    for command in group.COMMANDS:
        main.add_command(command)
