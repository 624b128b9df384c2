import numpy as np
import pytest
from sqlalchemy import Engine
from sqlmodel import select

from paperradar.embed.embeddings import (
    Embedder,
    embed_missing,
    pick_device,
    resolve_model_location,
    text_vectors,
)
from paperradar.embed.vectors import load_vectors
from paperradar.errors import ConfigError
from paperradar.settings import EmbeddingSettings
from paperradar.store.db import session_scope
from paperradar.store.records import Embedding, Paper
from paperradar.text import paper_text, text_sha


def _paper(arxiv_id: str, title: str, abstract: str) -> Paper:
    return Paper(
        arxiv_id=arxiv_id,
        title=title,
        abstract=abstract,
        text_sha=text_sha(paper_text(title, abstract)),
    )


def test_each_paper_text_is_embedded_once_per_model(engine: Engine, embedder: Embedder) -> None:
    papers = [
        _paper("2510.00001", "Model merging", "We merge fine-tuned models with task arithmetic."),
        _paper("2510.00002", "Long context", "We extend the context window to 1M tokens."),
    ]
    with session_scope(engine) as session:
        session.add_all(papers)
        assert embed_missing(session, embedder, papers) == 2
    with session_scope(engine) as session:
        assert embed_missing(session, embedder, papers) == 0
        assert len(session.exec(select(Embedding)).all()) == 2


def test_changed_abstract_is_embedded_again_and_loads_the_new_vector(
    engine: Engine, embedder: Embedder
) -> None:
    paper = _paper("2510.00003", "A paper", "First version about model merging.")
    with session_scope(engine) as session:
        session.add(paper)
        embed_missing(session, embedder, [paper])
    with session_scope(engine) as session:
        stored = session.get(Paper, "2510.00003")
        assert stored is not None
        stored.abstract = "Second version about long-context attention."
        stored.text_sha = text_sha(paper_text(stored.title, stored.abstract))
        assert embed_missing(session, embedder, [stored]) == 1
        vector = load_vectors(session, embedder.model_name, [stored])[0]
    expected = embedder.embed([paper_text(stored.title, stored.abstract)])[0]
    assert np.allclose(vector, expected, atol=1e-5)


def test_vectors_are_unit_length_and_similar_texts_are_closer(embedder: Embedder) -> None:
    vectors = embedder.embed(
        [
            "Merging the weights of fine-tuned language models",
            "Model merging combines several fine-tuned models into one",
            "A convolutional network for retinal image segmentation",
        ]
    )
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


def test_missing_vector_is_reported_not_zero_filled(engine: Engine, embedder: Embedder) -> None:
    paper = _paper("2510.00004", "Never embedded", "No vector for this text.")
    with session_scope(engine) as session:
        session.add(paper)
        with pytest.raises(ConfigError, match=r"2510\.00004"):
            load_vectors(session, embedder.model_name, [paper])


def test_bundled_model_loads_from_its_package_and_by_explicit_path() -> None:
    location = resolve_model_location("all-MiniLM-L6-v2")
    assert location.endswith("model")
    by_path = Embedder(EmbeddingSettings(model=location, device="cpu"))
    assert by_path.embed(["hello"]).shape == (1, 384)


def test_unknown_model_raises_config_error_with_fix_hint(tmp_path) -> None:  # type: ignore[no-untyped-def]
    embedder = Embedder(EmbeddingSettings(model=str(tmp_path / "no-such-model"), device="cpu"))
    with pytest.raises(ConfigError, match="PAPERRADAR_EMBEDDING__MODEL"):
        embedder.embed(["text"])


def test_auto_device_resolves_to_an_available_device() -> None:
    assert pick_device("auto") in {"cuda", "mps", "cpu"}
    assert pick_device("cpu") == "cpu"


def test_topic_texts_are_encoded_once_stored_and_read_back_without_a_model(
    engine: Engine, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = ["Model merging of fine-tuned LLMs", "Long-context retrieval", "Model merging"]
    direct = embedder.embed(texts)
    encoded: list[str] = []
    embed = embedder.embed

    def counting(batch):  # type: ignore[no-untyped-def]
        encoded.extend(batch)
        return embed(batch)

    monkeypatch.setattr(embedder, "embed", counting)
    with session_scope(engine) as session:
        first = text_vectors(session, embedder, texts)
    with session_scope(engine) as session:
        again = text_vectors(session, embedder, [texts[2], texts[0], texts[2]])
        # A new process: the same model, not loaded, finds every vector stored.
        cold = Embedder(EmbeddingSettings(device="cpu"))
        stored = text_vectors(session, cold, texts)
    assert np.allclose(first, direct, atol=1e-5)
    assert np.allclose(again, direct[[2, 0, 2]], atol=1e-5)
    assert np.allclose(stored, direct, atol=1e-5)
    assert sorted(encoded) == sorted(texts)
    assert cold._model is None
