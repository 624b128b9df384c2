"""The package as a user installs it: a wheel in a fresh environment, run from an empty folder."""

import os
import re
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# A topic's heading in the demo's digest (the bundled profile reads Chinese first).
TOPIC_HEADING = re.compile(r"^━━ (.+)（(\d+)） ━━$", re.MULTILINE)
PACKAGED = (
    "paperradar/data/migrations/env.py",
    "paperradar/data/prompts/summarize.system.md",
    "paperradar/data/profiles/default.yaml",
    "paperradar/templates/web/day.html.j2",
    "paperradar/demo/cs_cl_lg_ai_2025-10-16.jsonl.gz",
    "bot/__main__.py",
)


def _build_wheel(folder: Path) -> Path:
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    subprocess.run([*pip_wheel, "-q", "-w", str(folder), str(REPO_ROOT)], check=True)
    (wheel,) = folder.glob("paperradar-*.whl")
    return wheel


def _fresh_environment(folder: Path, wheel: Path) -> Path:
    """A new venv holding only the wheel; its dependencies are read from this test's venv."""
    venv.create(folder, with_pip=False)
    python = folder / "bin" / "python"
    pip_install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps"]
    subprocess.run([*pip_install, "-q", str(wheel)], check=True)
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # A path added by a .pth file is searched after the venv's own packages, and the .pth files
    # inside it are not run: this checkout's editable install stays out of the way.
    (Path(site) / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return folder / "bin"


@pytest.mark.slow
def test_the_wheel_runs_the_demo_from_an_empty_folder_with_picks_under_every_topic(
    tmp_path: Path,
) -> None:
    wheel = _build_wheel(tmp_path / "dist")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert set(PACKAGED) <= names
    bin_dir = _fresh_environment(tmp_path / "venv", wheel)
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith("PAPERRADAR_")}
    env["HF_HUB_OFFLINE"] = "1"

    where = subprocess.run(
        [bin_dir / "python", "-c", "import paperradar; print(paperradar.__file__)"],
        cwd=empty,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    demo = subprocess.run(
        [bin_dir / "paperradar", "demo"], cwd=empty, env=env, capture_output=True, text=True
    )

    assert where.startswith(str(tmp_path / "venv"))
    assert demo.returncode == 0, demo.stderr[-3000:]
    picks = {title: int(count) for title, count in TOPIC_HEADING.findall(demo.stdout)}
    assert len(picks) == 3, demo.stdout[:2000]
    assert all(count > 0 for count in picks.values()), picks
    assert (empty / "var" / "paperradar.sqlite3").is_file()
    assert "Traceback" not in demo.stderr
