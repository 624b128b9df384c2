"""Benchmark what a new user waits for: `--help`, `status`, a cold and a warm `paperradar demo`.

    python bench/startup.py [--repeat 5] [--paperradar PATH]

Each command runs as its own process in a fresh, empty folder (so packaged data is used, as
after `pip install`), with no PAPERRADAR_* setting. The cold demo starts with an empty data
folder: it loads the model and embeds the shipped day's papers; the warm demo re-runs it over
the same folder, every vector cached. Prints one table of wall-clock seconds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _environment() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PAPERRADAR_")}
    env["HF_HUB_OFFLINE"] = "1"
    return env


def _timed(command: list[str], folder: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        command, cwd=folder, env=_environment(), check=True, capture_output=True, text=True
    )
    return time.perf_counter() - started


def main() -> None:
    """Time each command and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of the quick commands")
    parser.add_argument(
        "--paperradar",
        default=str(Path(sys.executable).with_name("paperradar")),
        help="the installed entry point to time",
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="paperradar-startup-"))
    try:
        rows: list[tuple[str, list[float]]] = []
        rows.append(
            (
                "paperradar --help",
                [_timed([args.paperradar, "--help"], folder) for _ in range(args.repeat)],
            )
        )
        rows.append(
            (
                "paperradar demo (cold: empty data folder)",
                [_timed([args.paperradar, "demo"], folder)],
            )
        )
        rows.append(
            (
                "paperradar demo (warm: every vector cached)",
                [_timed([args.paperradar, "demo"], folder) for _ in range(2)],
            )
        )
        rows.append(
            (
                "paperradar status",
                [_timed([args.paperradar, "status"], folder) for _ in range(args.repeat)],
            )
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"{os.cpu_count()} CPU cores, Python {sys.version.split()[0]}\n")
    print("| command | runs | median s | min s |\n|---|---:|---:|---:|")
    for name, seconds in rows:
        print(
            f"| {name} | {len(seconds)} | {statistics.median(seconds):.2f} | {min(seconds):.2f} |"
        )


if __name__ == "__main__":
    main()
