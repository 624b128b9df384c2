"""English for what users write in other scripts: detect it, and translate it once with the LLM."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from paperradar.errors import PaperRadarError
from paperradar.llm.client import LLMClient
from paperradar.llm.prompts import load_prompt, render_messages
from paperradar.settings import EmbeddingSettings

# Name fragments of sentence-transformers models trained on many languages, Chinese included.
MULTILINGUAL_MARKERS = ("multilingual", "labse", "bge-m3", "m3e", "xlm", "chinese", "-zh")
# A text whose letters are more than this share outside the Latin script needs English.
FOREIGN_SHARE = 0.3
TEXT_TAG = re.compile(r"<\s*(/?)\s*text\b[^>]*>", re.IGNORECASE)


class LanguageError(PaperRadarError):
    """Text in a script the embedding model cannot match, and no way to translate it."""


class Translation(BaseModel):
    """English translations of the request's texts, one per text, in the same order."""

    model_config = ConfigDict(extra="forbid")

    english: list[str] = Field(description="One English text per text in the request, in order.")

    @model_validator(mode="after")
    def _one_per_text(self, info: ValidationInfo) -> Self:
        count = (info.context or {}).get("count")
        if count is not None and len(self.english) != count:
            raise ValueError(f"english must have exactly {count} texts, not {len(self.english)}")
        if any(not text.strip() for text in self.english):
            raise ValueError("every english text must be non-empty")
        return self


def is_multilingual(settings: EmbeddingSettings) -> bool:
    """Whether the embedding model matches non-English text (setting, else guessed by name)."""
    if settings.multilingual is not None:
        return settings.multilingual
    name = settings.model.lower()
    return any(marker in name for marker in MULTILINGUAL_MARKERS)


def needs_english(text: str) -> bool:
    """Whether a text is mostly written in a non-Latin script (Chinese, Japanese, Cyrillic…)."""
    letters = [char for char in text if char.isalpha()]
    if not letters:
        return False
    foreign = sum(not unicodedata.name(char, "").startswith("LATIN") for char in letters)
    return foreign / len(letters) > FOREIGN_SHARE


def translate(llm: LLMClient, prompts_dir: Path, texts: Sequence[str]) -> list[str]:
    """Translate texts to English with one LLM call (LLMOutputError when the reply is unusable)."""
    prompt = load_prompt(prompts_dir, "translate", schema=Translation)
    fenced = [TEXT_TAG.sub(lambda tag: f"&lt;{tag.group(1)}text&gt;", text) for text in texts]
    system, user = render_messages(prompt, {"texts": fenced})
    reply = llm.complete_json(system, user, Translation, context={"count": len(texts)})
    return [text.strip() for text in reply.value.english]


def english_for(
    texts: Sequence[str],
    *,
    embedding: EmbeddingSettings,
    llm: LLMClient | None,
    prompts_dir: Path,
) -> list[str] | None:
    """Return English versions when the model needs them; None when the texts can be used as-is.

    Raises LanguageError when the texts need English, the model is English-only and no LLM is
    configured: a topic matched in the wrong language would silently match nothing.
    """
    if not any(needs_english(text) for text in texts) or is_multilingual(embedding):
        return None
    if llm is None:
        raise LanguageError(
            f"the embedding model {embedding.model} only understands English, and no LLM is "
            "configured to translate: write it in English, or configure an LLM "
            "(PAPERRADAR_LLM__BASE_URL, PAPERRADAR_LLM__MODEL) or a multilingual embedding model "
            "(PAPERRADAR_EMBEDDING__MODEL, e.g. paraphrase-multilingual-MiniLM-L12-v2)"
        )
    return translate(llm, prompts_dir, texts)
