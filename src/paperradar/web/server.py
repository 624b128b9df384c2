"""Serve the web archive over HTTP with the standard library: static files and strict headers.

Text is sent gzipped to clients that accept it; every file carries an ETag and Last-Modified,
so a revisit costs a 304. Pages and the search index change with each run and are cached for
minutes; the site's assets (CSS, scripts, icon) for a day.
"""

from __future__ import annotations

import email.utils
import gzip
import io
import logging
import threading
from functools import lru_cache, partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from paperradar.errors import ConfigError
from paperradar.web.site import CONTENT_SECURITY_POLICY

logger = logging.getLogger(__name__)

# Only a header can forbid framing; a <meta> policy ignores frame-ancestors.
HEADER_POLICY = f"{CONTENT_SECURITY_POLICY}; frame-ancestors 'none'"
PAGE_CACHE = "public, max-age=300"
ASSET_CACHE = "public, max-age=86400"
COMPRESSED_TYPES = ("text/", "application/atom+xml", "image/svg+xml", "application/json")


def accepts_gzip(header: str) -> bool:
    """Whether an Accept-Encoding header allows gzip (`gzip`, `*`, not `gzip;q=0`)."""
    for part in header.split(","):
        name, _, parameters = part.partition(";")
        if name.strip().lower() not in ("gzip", "*"):
            continue
        quality = parameters.strip().removeprefix("q=").strip() or "1"
        try:
            return float(quality) > 0
        except ValueError:
            return False
    return False


@lru_cache(maxsize=256)
def _gzipped(path: str, mtime_ns: int, size: int) -> bytes:
    # Keyed by the file's time and size, so a rewritten page is compressed again.
    return gzip.compress(Path(path).read_bytes(), compresslevel=6, mtime=0)


def _etag_matches(header: str, etag: str) -> bool:
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or etag in tags


def _not_modified_since(header: str, mtime: float) -> bool:
    try:
        since = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError, OverflowError):
        return False
    return since.tzinfo is not None and int(mtime) <= since.timestamp()


class ArchiveRequestHandler(SimpleHTTPRequestHandler):
    """Serve the archive's files as a static host would: no listings, strict headers."""

    extensions_map = {  # noqa: RUF012 (the base class declares it a plain dict)
        **SimpleHTTPRequestHandler.extensions_map,
        ".atom": "application/atom+xml; charset=utf-8",
        ".css": "text/css; charset=utf-8",
        ".html": "text/html; charset=utf-8",
        ".js": "text/javascript; charset=utf-8",
        ".svg": "image/svg+xml",
    }

    def version_string(self) -> str:
        """Name the server without its Python version."""
        return "PaperRadar"

    def end_headers(self) -> None:
        """Add the security headers to every answer."""
        self.send_header("Content-Security-Policy", HEADER_POLICY)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        super().end_headers()

    def send_head(self) -> io.BytesIO | None:
        """Answer a file with caching headers, gzipped when the client accepts it."""
        translated = self.translate_path(self.path)
        path = Path(translated)
        # A trailing slash asks for a folder: its index.html, or the standard handler's answer.
        as_folder = translated.endswith("/")
        if as_folder and path.is_dir():
            path, as_folder = path / "index.html", False
        if as_folder or not path.is_file():
            # Folders (a redirect, or 404), missing files and a file asked for as a folder.
            return super().send_head()  # type: ignore[return-value]
        stat = path.stat()
        content_type = self.guess_type(path)
        compress = content_type.startswith(COMPRESSED_TYPES)
        zipped = compress and accepts_gzip(self.headers.get("Accept-Encoding", ""))
        etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}{"-gz" if zipped else ""}"'
        unchanged = self._unchanged(etag, stat.st_mtime)
        self.send_response(HTTPStatus.NOT_MODIFIED if unchanged else HTTPStatus.OK)
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", self.date_time_string(stat.st_mtime))
        self.send_header("Cache-Control", self._cache_control())
        if compress:
            self.send_header("Vary", "Accept-Encoding")
        if unchanged:
            self.end_headers()
            return None
        body = _gzipped(str(path), stat.st_mtime_ns, stat.st_size) if zipped else path.read_bytes()
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if zipped:
            self.send_header("Content-Encoding", "gzip")
        self.end_headers()
        return io.BytesIO(body)

    def _unchanged(self, etag: str, mtime: float) -> bool:
        """Whether the client's copy is current: its ETag, or else its date (RFC 9110 13.2.2)."""
        if "If-None-Match" in self.headers:
            return _etag_matches(self.headers["If-None-Match"], etag)
        since = self.headers.get("If-Modified-Since")
        return since is not None and _not_modified_since(since, mtime)

    def _cache_control(self) -> str:
        assets = urlsplit(self.path).path.startswith("/assets/")
        return ASSET_CACHE if assets else PAGE_CACHE

    def list_directory(self, path: str | Path) -> None:  # type: ignore[override]
        """Answer 404 for a folder without index.html, as static hosts do."""
        self.send_error(404, "Not found")

    def log_message(self, format: str, *args: object) -> None:
        """Log requests through logging instead of stderr."""
        logger.debug("%s %s", self.address_string(), format % args)


def make_server(directory: Path, host: str, port: int) -> ThreadingHTTPServer:
    """Bind a server for the archive at directory (port 0 picks a free one); not yet serving."""
    handler = partial(ArchiveRequestHandler, directory=str(directory))
    try:
        return ThreadingHTTPServer((host, port), handler)
    except OSError as error:
        raise ConfigError(
            f"cannot serve the web archive on {host}:{port}: {error.strerror} "
            "(set PAPERRADAR_WEB__HOST and PAPERRADAR_WEB__PORT)"
        ) from error


def start_server(directory: Path, host: str, port: int) -> ThreadingHTTPServer:
    """Serve the archive from a background thread; stop it with `stop_server`."""
    server = make_server(directory, host, port)
    threading.Thread(target=server.serve_forever, name="web-archive", daemon=True).start()
    bound_host, bound_port = server.server_address[:2]
    logger.info("web archive %s served at http://%s:%s/", directory, bound_host, bound_port)
    return server


def stop_server(server: ThreadingHTTPServer) -> None:
    """Stop serving and release the port."""
    server.shutdown()
    server.server_close()
