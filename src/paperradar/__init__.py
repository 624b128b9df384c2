"""PaperRadar: daily arXiv triage for researchers."""

__version__ = "0.1.0"
