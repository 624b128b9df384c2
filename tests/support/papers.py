"""Read JSONL paper files (plain or gzip) as dicts, for building test feeds."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any


def json_lines(path: Path) -> list[dict[str, Any]]:
    """Return every JSON object of a JSONL file, gzip or not."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
