"""The Settings every bench script starts from: the repository's profiles, prompts and migrations.

A bench run keeps its database and files in a data dir of its own (never the user's `var/`), and
reads the profiles, prompts and Alembic migrations of the checkout it runs from, whatever the
current directory is. Scripts pass the sections they change (`embedding=`, `arxiv=`, ...).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from paperradar.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def bench_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings on `data_dir` with the checkout's profiles, prompts and migrations."""
    defaults: dict[str, Any] = {
        "profiles_dir": ROOT / "profiles",
        "prompts_dir": ROOT / "prompts",
        "migrations_dir": ROOT / "db",
    }
    return Settings(data_dir=data_dir, **{**defaults, **overrides})
