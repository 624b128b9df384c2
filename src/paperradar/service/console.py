"""What PaperRadar's commands print while they work: one line per step, warnings, or detail.

By default a run shows its own progress lines (a stage's result, the model loading) and every
warning, and no library's chatter; `-v` brings back every logger's detail with times and names.
"""

from __future__ import annotations

import logging
import sys
import traceback
from types import TracebackType

from paperradar.settings.redaction import redact

# Libraries that log each request (a token sits in the Telegram Bot API's URLs): never below
# WARNING, whatever the verbosity.
CHATTY_LIBRARIES = ("httpx", "httpcore", "urllib3", "telegram", "arxiv", "sentence_transformers")


class _RedactingFormatter(logging.Formatter):
    """Any formatter's output with every secret masked, tracebacks included."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class _PlainFormatter(_RedactingFormatter):
    """A progress line as it is; a warning or an error says so first."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return text if record.levelno < logging.WARNING else f"{record.levelname.lower()}: {text}"


def _redacting_excepthook(
    kind: type[BaseException], error: BaseException, trace: TracebackType | None
) -> None:
    """Print an uncaught error's traceback (a bug) with every secret masked."""
    sys.stderr.write(redact("".join(traceback.format_exception(kind, error, trace))))


def configure_logging(*, verbose: bool) -> None:
    """Configure logging once, at an entry point."""
    handler = logging.StreamHandler()
    if verbose:
        handler.setFormatter(
            _RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
        )
    else:
        handler.setFormatter(_PlainFormatter("%(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    logging.getLogger("paperradar").setLevel(logging.DEBUG if verbose else logging.INFO)
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
    sys.excepthook = _redacting_excepthook
