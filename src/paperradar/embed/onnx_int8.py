"""An int8 ONNX copy of a sentence-transformers model, run by onnxruntime on the CPU.

On two CPU cores all-MiniLM-L6-v2 embeds abstracts 1.7-2x as fast this way as through
PyTorch (bench/pipeline.py). Only the matrix multiplications are quantised, with one scale
per output channel: quantising every layer with one scale per tensor moved vectors to a cosine
of 0.87 from PyTorch's, this keeps them above 0.99. The copy is exported from the loaded model
once and kept in the data directory under a digest of its weights, so a changed model is
exported again and never mixed up with an old copy.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from paperradar.errors import ConfigError

if TYPE_CHECKING:
    import onnxruntime
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

Pooling = Literal["mean", "cls"]
# Module types an exported model may consist of: the encoder, its pooling and normalisation.
SUPPORTED_MODULES = ("Transformer", "Pooling", "Normalize")
OPSET = 17
# sentence-transformers 5 sets one flag per pooling mode; 6 names the mode.
LEGACY_POOLING_FLAGS = {"pooling_mode_mean_tokens": "mean", "pooling_mode_cls_token": "cls"}


def _modules(model: SentenceTransformer) -> list[Any]:
    """The model's modules in order (typed loosely: torch types indexing as Tensor | Module)."""
    return list(model)


def _encoder(model: SentenceTransformer) -> Any:
    """The Hugging Face encoder inside the model's first (Transformer) module."""
    return _modules(model)[0].auto_model


def pooling_of(model: SentenceTransformer) -> Pooling:
    """Read how the model pools token vectors; refuse models the ONNX copy would change."""
    kinds = [type(module).__name__ for module in _modules(model)]
    if kinds[:2] != ["Transformer", "Pooling"] or any(k not in SUPPORTED_MODULES for k in kinds):
        raise ConfigError(
            f"embedding.backend onnx-int8 runs Transformer + Pooling (+ Normalize) models; "
            f"this one has {' + '.join(kinds)} (use embedding.backend torch)"
        )
    config = _modules(model)[1].get_config_dict()
    mode = config.get("pooling_mode") or next(
        (mode for flag, mode in LEGACY_POOLING_FLAGS.items() if config.get(flag)), None
    )
    if mode not in ("mean", "cls"):
        raise ConfigError(
            f"embedding.backend onnx-int8 supports mean or CLS pooling, not {mode!r} "
            "(use embedding.backend torch)"
        )
    return "mean" if mode == "mean" else "cls"


def weights_digest(model: SentenceTransformer) -> str:
    """A short digest of the encoder's weights, naming its exported copy."""
    digest = hashlib.sha256()
    for name, tensor in sorted(_encoder(model).state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


class _DropPreprocessingHint(logging.Filter):
    """Drop onnxruntime's root-logger advice to pre-process the graph before quantising.

    Measured on all-MiniLM-L6-v2, its pre-processing changes neither speed nor vectors, and
    the advice would greet every user at the first run.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()


def export_int8(model: SentenceTransformer, target: Path) -> None:
    """Export the model's encoder to ONNX and quantise it to int8, writing `target` whole."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    encoder = _encoder(model).eval().cpu()
    names = list(model.tokenizer.model_input_names)

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            hidden: torch.Tensor = self.encoder(**dict(zip(names, inputs, strict=True)))[0]
            return hidden

    sample = model.tokenizer(["a paper", "another paper"], padding=True, return_tensors="pt")
    axes: dict[str, dict[int, str]] = {name: {0: "batch", 1: "tokens"} for name in names}
    axes["hidden"] = {0: "batch", 1: "tokens"}
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        full = Path(scratch) / "model.onnx"
        # Tracing warns that shape checks become constants; they are constant for an encoder
        # given its attention mask, and the tests compare vectors over many lengths and batches.
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                LastHiddenState(),
                tuple(sample[name] for name in names),
                str(full),
                input_names=names,
                output_names=["hidden"],
                dynamic_axes=axes,
                opset_version=OPSET,
                dynamo=False,
            )
        quantised = Path(scratch) / "model.int8.onnx"
        hint = _DropPreprocessingHint()
        logging.getLogger().addFilter(hint)
        try:
            quantize_dynamic(
                full,
                quantised,
                weight_type=QuantType.QInt8,
                per_channel=True,
                op_types_to_quantize=["MatMul"],
            )
        finally:
            logging.getLogger().removeFilter(hint)
        quantised.replace(target)


class QuantizedEncoder:
    """Embeds texts with an int8 ONNX copy of a sentence-transformers model."""

    def __init__(
        self,
        session: onnxruntime.InferenceSession,
        tokenizer: Any,
        *,
        max_length: int,
        pooling: Pooling,
    ) -> None:
        self._session = session
        self._tokenizer = tokenizer
        self._names = [node.name for node in session.get_inputs()]
        self._max_length = max_length
        self._pooling = pooling

    @classmethod
    def of(cls, model: SentenceTransformer, cache_dir: Path) -> QuantizedEncoder:
        """Load the model's int8 copy from `cache_dir`, exporting it there on first use."""
        import onnxruntime

        pooling = pooling_of(model)
        path = cache_dir / f"{weights_digest(model)}.int8.onnx"
        if not path.exists():
            logger.info("exporting the embedding model to int8 ONNX at %s", path)
            export_int8(model, path)
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # the quantised graph's benign warnings are not news
        session = onnxruntime.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )
        max_length = model.max_seq_length or model.tokenizer.model_max_length
        return cls(session, model.tokenizer, max_length=max_length, pooling=pooling)

    def encode(self, texts: Sequence[str], *, batch_size: int) -> np.ndarray:
        """Embed texts into unit float32 rows, in the texts' order.

        Texts are batched longest first, as sentence-transformers does, so that a batch pads
        to similar lengths.
        """
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        order = np.argsort([-len(text) for text in texts], kind="stable")
        starts = range(0, len(texts), batch_size)
        batches = [
            self._encode_batch([texts[i] for i in order[start : start + batch_size]])
            for start in starts
        ]
        in_texts_order: np.ndarray = np.concatenate(batches)[np.argsort(order)]
        return in_texts_order

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        tokens = self._tokenizer(
            texts, padding=True, truncation=True, max_length=self._max_length, return_tensors="np"
        )
        feeds = {name: np.asarray(tokens[name], dtype=np.int64) for name in self._names}
        hidden = np.asarray(self._session.run(["hidden"], feeds)[0], dtype=np.float32)
        if self._pooling == "cls":
            pooled = hidden[:, 0]
        else:
            mask = np.asarray(tokens["attention_mask"], dtype=np.float32)[..., None]
            pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        normalised: np.ndarray = (pooled / norms).astype(np.float32)
        return normalised
