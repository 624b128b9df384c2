"""`Refusal`: a reader's request turned down for a reason they can fix, worded in any language."""

from __future__ import annotations

from typing import Any

from paperradar.errors import PaperRadarError
from paperradar.i18n import Words, words


class Refusal(PaperRadarError):
    """A refusal as a catalog key and its values; `str()` is the English text (CLI, log).

    The catalog text is plain (no markup): a channel escapes it whole, values included.
    """

    def __init__(self, key: str, /, **values: Any) -> None:
        self.key = key
        self.values: dict[str, Any] = values
        super().__init__(self.worded(words("en")))

    def worded(self, t: Words) -> str:
        """The refusal in the language of `t`."""
        return t(self.key, **self.values)
