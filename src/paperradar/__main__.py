"""Entry point for `python -m paperradar`."""

from paperradar.cli.main import main

main()
