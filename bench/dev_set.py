"""Where the bench scripts find the development set, which lives outside the repository.

The development set (`dev_pool.jsonl.gz`, `dev_labels.json`, `eval.py`; about 16 MB) is not in
the repository. Every bench script finds its folder the same way, first match wins:

1. `--dev-set DIR`;
2. the environment variable `PAPERRADAR_DEV_SET`;
3. `../shared/bench`, beside the repository.

`--pool FILE` reads another pool instead of the development set's `dev_pool.jsonl.gz`.
bench/web.py reads the full real arXiv corpus, which the shared folder keeps beside the
development set: `DIR/../fixtures/arxiv/corpus/`. When a folder or file is missing, the script
stops with one line on stderr that names the flag and the variable, and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import NoReturn

ENV = "PAPERRADAR_DEV_SET"
DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "bench"
POOL = "dev_pool.jsonl.gz"
HOW = f"pass --dev-set DIR or set {ENV}"


def add_arguments(parser: argparse.ArgumentParser, *, pool: bool = True) -> None:
    """Give a bench script `--dev-set DIR` and, unless `pool` is false, `--pool FILE`."""
    parser.add_argument(
        "--dev-set",
        type=Path,
        metavar="DIR",
        help=f"the development set's folder (default: ${ENV}, else ../shared/bench)",
    )
    if pool:
        parser.add_argument(
            "--pool", type=Path, metavar="FILE", help=f"the papers (default: DIR/{POOL})"
        )


def stop(message: str) -> NoReturn:
    """Print one line naming the script on stderr and exit with status 2."""
    print(f"{Path(sys.argv[0]).name}: {message}", file=sys.stderr)
    raise SystemExit(2)


def folder(args: argparse.Namespace) -> Path:
    """The development set's folder: `--dev-set`, else `$PAPERRADAR_DEV_SET`, else the default."""
    path = Path(args.dev_set or os.environ.get(ENV) or DEFAULT)
    if not path.is_dir():
        stop(f"development set not found: {path} is not a folder ({HOW})")
    return path


def dev_file(args: argparse.Namespace, name: str) -> Path:
    """A file of the development set, such as `dev_labels.json` or `eval.py`."""
    path = folder(args) / name
    if not path.is_file():
        stop(f"development set incomplete: {path} not found ({HOW})")
    return path


def pool(args: argparse.Namespace) -> Path:
    """The pool of papers: `--pool FILE`, else the development set's `dev_pool.jsonl.gz`."""
    if args.pool is None:
        return dev_file(args, POOL)
    path = Path(args.pool)
    if not path.is_file():
        stop(f"pool not found: {path} (fix --pool, or leave it out to read DIR/{POOL})")
    return path


def corpus_dir(args: argparse.Namespace) -> Path:
    """The full real arXiv corpus the shared folder keeps beside the development set."""
    path = folder(args).parent / "fixtures" / "arxiv" / "corpus"
    if not path.is_dir():
        stop(f"real arXiv corpus not found: {path} (it is DIR/../fixtures/arxiv/corpus; {HOW})")
    return path
