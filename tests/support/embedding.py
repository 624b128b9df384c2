"""The real bundled model, remembering what it embedded for the whole test session.

Many tests embed the same real papers into fresh databases; the model's answer for a text
never changes, so each text is run through it once per session. Nothing else differs from
the product's Embedder.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from paperradar.embed.embeddings import Embedder
from paperradar.settings import EmbeddingSettings


class SessionEmbedder(Embedder):
    """An Embedder that runs each distinct text through the model once per session."""

    def __init__(self, settings: EmbeddingSettings) -> None:
        super().__init__(settings)
        self._seen: dict[str, np.ndarray] = {}
        self._seen_lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed the texts not seen yet; return every text's vector in order."""
        with self._seen_lock:
            missing = list(dict.fromkeys(text for text in texts if text not in self._seen))
        if missing:
            vectors = super().embed(missing)
            with self._seen_lock:
                self._seen.update(zip(missing, vectors, strict=True))
        if not texts:
            return super().embed(texts)
        with self._seen_lock:
            return np.stack([self._seen[text] for text in texts])
