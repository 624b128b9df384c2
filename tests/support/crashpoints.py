"""Kill a real `paperradar` process at a chosen database commit, through SQLAlchemy's events.

A generated `sitecustomize.py` (on the child's PYTHONPATH only) listens to every Session's
`before_commit` and `after_commit`, names the pipeline stage on the call stack, logs each
commit, and SIGKILLs its own process at the chosen one. Product code knows nothing of it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SITECUSTOMIZE = """
import os, signal, sys
from sqlalchemy import event
from sqlalchemy.orm import Session

TARGET = {target!r}
LOG = {log!r}
counts = {{}}


def _stage():
    # A stage runs inside its `Stage.run` lambda, called by `run_day` with `stage` bound.
    frame = sys._getframe(2)
    while frame is not None:
        if (
            frame.f_globals.get("__name__") == "paperradar.service.pipeline"
            and frame.f_code.co_name == "<lambda>"
        ):
            return frame.f_back.f_locals["stage"].name
        frame = frame.f_back
    return "pipeline"


def _listener(when):
    def on_commit(session):
        stage = _stage()
        key = (stage, when)
        counts[key] = counts.get(key, 0) + 1
        with open(LOG, "a", encoding="utf-8") as log:
            log.write(f"{{stage}} {{when}} {{counts[key]}}\\n")
        if TARGET == (stage, when, counts[key]):
            os.kill(os.getpid(), signal.SIGKILL)
    return on_commit


event.listen(Session, "before_commit", _listener("before"))
event.listen(Session, "after_commit", _listener("after"))
"""


@dataclass(frozen=True)
class CommitPoint:
    """The n-th commit (before or after it) made inside a stage's `run`."""

    stage: str
    when: str
    nth: int

    def __str__(self) -> str:
        return f"{self.stage}:{self.when}-commit-{self.nth}"


def write_sitecustomize(folder: Path, target: CommitPoint | None, log: Path) -> Path:
    """Write the sitecustomize that logs commits and kills at `target` (None: never)."""
    folder.mkdir(parents=True, exist_ok=True)
    key = None if target is None else (target.stage, target.when, target.nth)
    (folder / "sitecustomize.py").write_text(
        SITECUSTOMIZE.format(target=key, log=str(log)), encoding="utf-8"
    )
    return folder


def read_commit_log(log: Path) -> list[CommitPoint]:
    """Return the commits a run made, in order."""
    if not log.is_file():
        return []
    points = []
    for line in log.read_text(encoding="utf-8").splitlines():
        stage, when, nth = line.split()
        points.append(CommitPoint(stage, when, int(nth)))
    return points


class Child:
    """A `python -m paperradar` process; servers in this process may kill it by pid."""

    def __init__(self) -> None:
        self._pid: int | None = None
        self._started = threading.Event()

    def kill(self) -> None:
        """SIGKILL the process (from a loopback server's handler, mid-request)."""
        self._started.wait(60)
        if self._pid is not None:
            os.kill(self._pid, signal.SIGKILL)

    def started(self, pid: int) -> None:
        """Note the process id, so a server may kill it from now on."""
        self._pid = pid
        self._started.set()

    def run(
        self, args: list[str], env: Mapping[str, str], *, cwd: Path, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """Run the command to its end (or its death) and return what happened."""
        with subprocess.Popen(
            [sys.executable, "-m", "paperradar", *args],
            env=dict(env),
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as process:
            self.started(process.pid)
            stdout, stderr = process.communicate(timeout=timeout)
            return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


class WarmParent:
    """A parent process that imports PaperRadar (and torch) once and forks one child per run.

    Each child is a separate process running `paperradar.cli.main.main(args)` with its own
    environment, killed with SIGKILL like any other; forking spares each run the seconds of
    importing torch and sentence-transformers. The parent never runs torch itself, so the
    fork happens before any thread pool exists.
    """

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("warm_parent.py"))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(
        self, child: Child, args: list[str], env: Mapping[str, str], *, cwd: Path, hooks: Path
    ) -> subprocess.CompletedProcess[str]:
        """Fork a child for one command; return its exit code (negative: killed) and output."""
        assert self.process.stdin is not None and self.process.stdout is not None
        output = cwd / f"child-{len(list(cwd.glob('child-*.log')))}.log"
        request = {
            "args": args,
            "env": dict(env),
            "cwd": str(cwd),
            "hooks": str(hooks),
            "output": str(output),
        }
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        child.started(int(json.loads(self.process.stdout.readline())["pid"]))
        code = int(json.loads(self.process.stdout.readline())["code"])
        text = output.read_text(encoding="utf-8", errors="replace")
        return subprocess.CompletedProcess(args, code, "", text)

    def close(self) -> None:
        """Stop the parent."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(30)
