"""LLMClient over any OpenAI-compatible endpoint (being written: see helper B's task)."""

from __future__ import annotations

from paperradar.settings import LLMSettings


class LLMClient:
    """One OpenAI-compatible chat-completions client."""

    def __init__(self, settings: LLMSettings) -> None:
        self.settings = settings
