"""Entry point for `python -m paperradar`."""

from paperradar.cli import main

main()
