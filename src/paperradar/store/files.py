"""Files under the data dir, written atomically so a reader never sees half a file."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

# Read and write for everyone, less the process umask (0644 under the usual 022): the web
# archive is served by nginx, Caddy or a Pages host running as another user.
FILE_MODE = 0o666


def write_atomic(path: Path, data: bytes) -> None:
    """Write bytes to a temporary file beside `path`, then rename it into place.

    The file gets the mode any new file of the process gets (umask applied by the kernel),
    unlike `tempfile.mkstemp`, whose files are always 0600.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
