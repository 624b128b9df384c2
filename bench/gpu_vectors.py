"""Embed the development pool on a borrowed GPU and cache the vectors in a bench database.

    python bench/gpu_vectors.py export --data-dir DIR --out .gpu [--dev-set DIR] [--pool FILE]
    python3 gpu_vectors.py encode --src .gpu --out OUT            # on the GPU machine
    python bench/gpu_vectors.py import --data-dir DIR --src OUT

Embedding the 29,365-paper pool takes about 30 minutes on two CPU cores; on one GPU, seconds.

`export` stores the pool and every profile's inline seed papers into DIR's database exactly as
bench/ranking.py does (through the product's cleaning, as non-candidates), without embedding,
and writes into `--out`: `texts.jsonl.xz` (arxiv id, text hash and `paper_text` of every stored
paper whose current text has no vector of the model yet), a float16 copy of the bundled model
(`model/`, half the size, so it travels) and this script. `encode` runs there with only numpy,
torch and sentence-transformers: it loads the copy in float32 (`.float()`: the weights are the
fp16-rounded ones, the arithmetic is fp32), encodes with the Embedder's settings (unit vectors,
the model's own max_seq_length) and writes float32 parts of at most 12 MB (`vectors-NN.npy`).
`import` checks each text hash against the stored paper and stores the vectors under the
Embedder's model name, so bench/ranking.py then finds every vector cached.
"""

from __future__ import annotations

import argparse
import json
import lzma
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TEXTS = "texts.jsonl.xz"
MODEL = "model"
LIMIT = "max_seq_length.json"
PART_ROWS = 8000  # 8,000 x 384 float32 = 12.3 MB, under the 16 MB a returned file may hold


def export(args: argparse.Namespace) -> None:
    """Store the pool and seeds without embedding; write what the GPU needs into `--out`."""
    import dev_set
    from sentence_transformers import SentenceTransformer
    from sqlmodel import select

    from paperradar.embed.embeddings import resolve_model_location
    from paperradar.embed.vectors import cached_keys
    from paperradar.ingest.feeds import parse_feed
    from paperradar.ingest.papers import store_reference_papers
    from paperradar.ingest.seeds import inline_announcement, unique_seeds
    from paperradar.store.db import session_scope
    from paperradar.store.records import Paper
    from paperradar.text import paper_text

    ctx = _app(args.data_dir)
    pool = dev_set.pool(args)
    announcements = parse_feed(pool.read_bytes(), source=str(pool)).announcements
    today = ctx.clock().date()
    seeds = [inline_announcement(s, today) for s in unique_seeds(ctx.profiles) if s.has_text]
    with session_scope(ctx.engine) as session:
        store_reference_papers(session, [*announcements, *seeds])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with session_scope(ctx.engine) as session:
        papers = list(session.exec(select(Paper)))
        cached = cached_keys(session, ctx.embedder.model_name, [p.arxiv_id for p in papers])
        missing = [p for p in papers if (p.arxiv_id, p.text_sha) not in cached]
        with lzma.open(out / TEXTS, "wt", encoding="utf-8") as handle:
            for paper in missing:
                text = paper_text(paper.title, paper.abstract)
                handle.write(json.dumps([paper.arxiv_id, paper.text_sha, text]) + "\n")
    if not (out / MODEL).is_dir():
        location = resolve_model_location(ctx.settings.embedding.model)
        model = SentenceTransformer(location, device="cpu")
        model.half().save(str(out / MODEL))
        # Where a sentence-transformers version keeps it differs: the fallback reads it here.
        (out / LIMIT).write_text(json.dumps(model.max_seq_length), encoding="utf-8")
    shutil.copy(Path(__file__), out / Path(__file__).name)
    print(f"{len(missing)} of {len(papers)} stored papers to embed -> {out}")


def encode(args: argparse.Namespace) -> None:
    """Encode the exported texts in float32 from the float16 model copy (needs no paperradar)."""
    import torch

    src, out = Path(args.src), Path(args.out)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    with lzma.open(src / TEXTS, "rt", encoding="utf-8") as handle:
        texts = [json.loads(line)[2] for line in handle]
    if args.limit:
        texts = texts[: args.limit]
    out.mkdir(parents=True, exist_ok=True)
    encoder = _encoder(args, src, device)
    # Part by part, skipping parts already written: an interrupted run resumes where it stopped.
    parts = list(enumerate(range(0, len(texts), args.part_rows)))
    for number, start in reversed(parts) if args.reverse else parts:
        path = out / f"vectors-{number:02d}.npy"
        if not path.exists():
            part = encoder(texts[start : start + args.part_rows])
            np.save(path.with_suffix(".part.npy"), np.asarray(part, dtype=np.float32))
            path.with_suffix(".part.npy").rename(path)
            print(f"{start + len(part)} of {len(texts)} encoded", flush=True)
    print(f"wrote {len(texts)} vectors into {out}")


def _encoder(args: argparse.Namespace, src: Path, device: str) -> Callable[[list[str]], np.ndarray]:
    """The sentence-transformers encoder of the copy, else plain transformers mean pooling."""
    model_dir = Path(args.model or src / MODEL)
    try:
        if args.plain:
            raise ImportError("--plain")
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(model_dir), device=device).float()
        print(f"encoding on {device}, max_seq_length {model.max_seq_length}")
        return lambda texts: model.encode(
            texts, batch_size=args.batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
    except Exception as error:  # another sentence-transformers than the one that saved the copy
        print(f"sentence-transformers failed ({error}); mean pooling with transformers")
        return lambda texts: _mean_pooled(src, model_dir, texts, device, args.batch_size)


def _mean_pooled(
    src: Path, model_dir: Path, texts: list[str], device: str, batch: int
) -> np.ndarray:
    """What the MiniLM sentence-transformers model computes: masked mean, unit length."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    limit = int(json.loads((src / LIMIT).read_text(encoding="utf-8")))
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModel.from_pretrained(str(model_dir)).float().to(device).eval()
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    vectors = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(order), batch):
            rows = order[start : start + batch]
            tokens = tokenizer(
                [texts[i] for i in rows],
                padding=True,
                truncation=True,
                max_length=limit,
                return_tensors="pt",
            ).to(device)
            hidden = model(**tokens).last_hidden_state
            mask = tokens["attention_mask"].unsqueeze(-1).float()
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(pooled, dim=1)
            vectors[rows] = pooled.cpu().numpy()
    return vectors


def import_vectors(args: argparse.Namespace) -> None:
    """Store the encoded vectors for the papers whose text hash still matches."""
    from sqlmodel import col, select

    from paperradar.embed.vectors import cached_keys, store_vectors
    from paperradar.store.db import session_scope
    from paperradar.store.records import Paper

    src = Path(args.src)
    texts = Path(args.texts) if args.texts else src / TEXTS
    with lzma.open(texts, "rt", encoding="utf-8") as handle:
        every = [tuple(json.loads(line)[:2]) for line in handle]
    # Parts may be missing (an encode still running, or one from each end): each part's place
    # is its number times the part size.
    keys, parts = [], []
    for path in sorted(src.glob("vectors-[0-9][0-9].npy")):
        start = int(path.stem.split("-")[1]) * args.part_rows
        part = np.load(path)
        if len(part) != min(args.part_rows, len(every) - start):
            raise SystemExit(f"{path} holds {len(part)} vectors: is --part-rows right?")
        keys += every[start : start + len(part)]
        parts.append(part)
    if not parts:
        raise SystemExit(f"no vectors-NN.npy in {src} yet")
    vectors = np.concatenate(parts)
    ctx = _app(args.data_dir)
    model = ctx.embedder.model_name
    stored = skipped = 0
    with session_scope(ctx.engine) as session:
        for start in range(0, len(keys), 2000):
            chunk = keys[start : start + 2000]
            ids = [arxiv_id for arxiv_id, _ in chunk]
            papers = {
                p.arxiv_id: p
                for p in session.exec(select(Paper).where(col(Paper.arxiv_id).in_(ids)))
            }
            cached = cached_keys(session, model, ids)
            rows = [
                (papers[arxiv_id], vectors[start + offset])
                for offset, (arxiv_id, sha) in enumerate(chunk)
                if arxiv_id in papers
                and papers[arxiv_id].text_sha == sha
                and (arxiv_id, sha) not in cached
            ]
            skipped += len(chunk) - len(rows)
            if rows:
                store_vectors(session, model, [p for p, _ in rows], np.stack([v for _, v in rows]))
                stored += len(rows)
    print(f"stored {stored} vectors of {model}; skipped {skipped} (changed text or cached)")


def _app(data_dir: Path):  # type: ignore[no-untyped-def]
    from bench_settings import bench_settings

    from paperradar.app import build_app

    return build_app(bench_settings(data_dir))


def main() -> None:
    """Run one of the three steps."""
    parser = argparse.ArgumentParser(description=__doc__)
    steps = parser.add_subparsers(dest="step", required=True)
    step = steps.add_parser("export", help="store the pool, write texts and model copy")
    step.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench")
    step.add_argument("--out", type=Path, required=True)
    step.add_argument("--dev-set", type=Path, metavar="DIR")
    step.add_argument("--pool", type=Path, metavar="FILE")
    step = steps.add_parser("encode", help="encode the texts (on the GPU machine)")
    step.add_argument("--src", type=Path, required=True)
    step.add_argument("--out", type=Path, required=True)
    step.add_argument("--batch-size", type=int, default=256)
    step.add_argument("--limit", type=int, default=0, help="encode only the first N (a test)")
    step.add_argument("--model", type=Path, help=f"another model folder (default: --src/{MODEL})")
    step.add_argument("--part-rows", type=int, default=PART_ROWS, help="vectors per file")
    step.add_argument(
        "--reverse", action="store_true", help="last part first (a second process on a CPU)"
    )
    step.add_argument("--plain", action="store_true", help="transformers only, no ST loader")
    step = steps.add_parser("import", help="store the vectors in the bench database")
    step.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench")
    step.add_argument("--src", type=Path, required=True, help="the folder of vectors-NN.npy")
    step.add_argument("--texts", type=Path, help=f"the exported {TEXTS} (default: in --src)")
    step.add_argument("--part-rows", type=int, default=PART_ROWS, help="as encode's")
    args = parser.parse_args()
    {"export": export, "encode": encode, "import": import_vectors}[args.step](args)


if __name__ == "__main__":
    main()
