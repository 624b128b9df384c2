"""The errors a user can act on; the CLI turns each into one clear line and exit 1."""


class PaperRadarError(Exception):
    """Base of every error PaperRadar reports to the user instead of a traceback."""


class ConfigError(PaperRadarError):
    """Settings, profiles or prompts are missing or invalid."""


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
