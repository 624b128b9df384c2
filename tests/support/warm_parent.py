"""The warm parent of WarmParent: import once, then fork a `paperradar` child per request.

Reads one JSON request a line on stdin ({args, env, cwd, hooks, output}), answers
{"pid": ...} when the child starts and {"code": ...} when it ends (negative: killed by that
signal).
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from pathlib import Path


def _child(request: dict[str, object]) -> None:
    """Become the command: output to a file, the request's environment, hooks, then the CLI."""
    output = os.open(str(request["output"]), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(output, 1)
    os.dup2(output, 2)
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in dict(request["env"]).items()})  # type: ignore[call-overload]
    os.chdir(str(request["cwd"]))
    code = 1
    try:
        runpy.run_path(str(Path(str(request["hooks"])) / "sitecustomize.py"))
        from paperradar.cli.main import main

        main(list(request["args"]), prog_name="paperradar")  # type: ignore[call-overload]
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _answer(value: dict[str, int]) -> None:
    sys.stdout.write(json.dumps(value) + "\n")
    sys.stdout.flush()


def main() -> None:
    """Serve fork requests until stdin closes."""
    import sentence_transformers  # noqa: F401

    # The imports every child would repeat: the CLI loads the pipeline lazily.
    import paperradar.app
    import paperradar.cli.main
    import paperradar.service.pipeline  # noqa: F401

    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request)
        _answer({"pid": pid})
        _, status = os.waitpid(pid, 0)
        _answer({"code": os.waitstatus_to_exitcode(status)})


if __name__ == "__main__":
    main()
