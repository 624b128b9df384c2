"""The errors a user can act on; the CLI turns each into one clear line and exit 1."""

from pydantic import ValidationError


class PaperRadarError(Exception):
    """Base of every error PaperRadar reports to the user instead of a traceback."""


class ConfigError(PaperRadarError):
    """Settings, profiles or prompts are missing or invalid."""


class DatabaseError(PaperRadarError):
    """The database cannot be reached, opened or written."""


class FeedError(PaperRadarError):
    """An arXiv feed or saved paper file could not be read or parsed."""


class SourceUnavailableError(PaperRadarError):
    """arXiv (or another upstream) did not answer after the client's retries."""


class LLMOutputError(PaperRadarError):
    """The LLM's reply did not satisfy the output contract, even after one repair attempt."""


class ChannelError(PaperRadarError):
    """A channel could not deliver a message part."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def describe_invalid(error: ValidationError) -> str:
    """Say what failed validation, by location and message, never echoing the input.

    The input may be a secret (a settings value) or hostile text (an LLM reply).
    """
    return "; ".join(
        f"{'.'.join(str(part) for part in issue['loc']) or '(top)'}: "
        f"{issue['msg'].removeprefix('Value error, ')}"
        for issue in error.errors(include_url=False, include_input=False)
    )
