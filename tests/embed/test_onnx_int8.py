"""The onnx-int8 embedding backend: an int8 ONNX copy of the real bundled model."""

import json
import logging
from pathlib import Path

import numpy as np
import pytest
from sentence_transformers import SentenceTransformer
from sqlalchemy import Engine
from sqlmodel import select

from paperradar.embed import onnx_int8 as onnx_encoder
from paperradar.embed.embeddings import Embedder, embed_missing
from paperradar.embed.onnx_int8 import QuantizedEncoder, pooling_of
from paperradar.errors import ConfigError
from paperradar.settings import EmbeddingSettings
from paperradar.store.db import session_scope
from paperradar.store.records import Embedding, Paper
from paperradar.text import paper_text, text_sha

# Each test exports the model to int8 ONNX.
pytestmark = pytest.mark.slow

try:
    from sentence_transformers.sentence_transformer.modules import Dense, Pooling
except ImportError:  # sentence-transformers 5
    from sentence_transformers.models import Dense, Pooling


@pytest.fixture(scope="module")
def abstracts(arxiv_fixtures: Path) -> list[str]:
    """Real papers' texts of very different lengths, in corpus order."""
    path = arxiv_fixtures / "corpus" / "corpus_cs_cl_lg_ai_2025-09_2025-10.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()[:40]]
    return [paper_text(row["title"], row["abstract"]) for row in rows] + ["Model merging"]


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def int8_embedder(models_dir: Path) -> Embedder:
    settings = EmbeddingSettings(device="cpu", backend="onnx-int8", batch_size=8)
    return Embedder(settings, models_dir=models_dir)


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    cosines: np.ndarray = (a * b).sum(axis=1)
    return cosines


def test_int8_vectors_stay_close_to_torch_row_by_row(
    abstracts: list[str], embedder: Embedder, int8_embedder: Embedder
) -> None:
    reference = embedder.embed(abstracts)
    vectors = int8_embedder.embed(abstracts)
    assert vectors.shape == reference.shape and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # Batches run longest first; each row must come back to its own text.
    assert _cosines(vectors, reference).min() > 0.98
    assert _cosines(vectors, np.roll(reference, 1, axis=0)).max() < 0.98


def test_the_copy_is_exported_once_and_reused(
    abstracts: list[str], models_dir: Path, int8_embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    int8_embedder.embed(abstracts[:1])
    copies = list(models_dir.glob("*.int8.onnx"))
    assert len(copies) == 1

    def no_export(*_: object) -> None:
        raise AssertionError("exported again")

    monkeypatch.setattr(onnx_encoder, "export_int8", no_export)
    again = Embedder(EmbeddingSettings(device="cpu", backend="onnx-int8"), models_dir=models_dir)
    assert np.allclose(again.embed(abstracts[:3]), int8_embedder.embed(abstracts[:3]), atol=1e-6)


def test_vectors_of_each_backend_are_cached_apart(
    engine: Engine, embedder: Embedder, int8_embedder: Embedder
) -> None:
    title, abstract = "Long context", "We extend the context window of LLMs to 1M tokens."
    paper = Paper(
        arxiv_id="2510.00009",
        title=title,
        abstract=abstract,
        text_sha=text_sha(paper_text(title, abstract)),
    )
    with session_scope(engine) as session:
        session.add(paper)
        assert embed_missing(session, embedder, [paper]) == 1
        assert embed_missing(session, int8_embedder, [paper]) == 1
        assert embed_missing(session, int8_embedder, [paper]) == 0
        models = sorted(row.model for row in session.exec(select(Embedding)))
    assert models == [embedder.model_name, f"{embedder.model_name}@onnx-int8"]


def test_cls_pooling_models_are_exported_with_their_pooling(
    abstracts: list[str], embedder: Embedder, tmp_path: Path
) -> None:
    transformer = embedder.model[0]
    cls_model = SentenceTransformer(
        modules=[transformer, Pooling(embedder.dimension, pooling_mode="cls")], device="cpu"
    )
    assert pooling_of(cls_model) == "cls"
    reference = cls_model.encode(abstracts[:8], normalize_embeddings=True)
    vectors = QuantizedEncoder.of(cls_model, tmp_path).encode(abstracts[:8], batch_size=4)
    assert _cosines(vectors, reference).min() > 0.97


def test_models_the_copy_would_change_are_refused(embedder: Embedder) -> None:
    transformer, pooling = embedder.model[0], embedder.model[1]
    projected = SentenceTransformer(
        modules=[transformer, pooling, Dense(embedder.dimension, 64)], device="cpu"
    )
    with pytest.raises(ConfigError, match=r"Transformer \+ Pooling \+ Dense.*backend torch"):
        pooling_of(projected)


def test_the_backend_needs_a_directory_for_its_copy() -> None:
    embedder = Embedder(EmbeddingSettings(device="cpu", backend="onnx-int8"))
    with pytest.raises(ConfigError, match="needs a directory"):
        embedder.embed(["a text"])


def test_exporting_warns_of_nothing(
    embedder: Embedder, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        QuantizedEncoder.of(embedder.model, tmp_path)
    assert [
        record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING
    ] == []
    assert len(list(tmp_path.glob("*.int8.onnx"))) == 1
