"""Serve the web archive over HTTP with the standard library: static files and strict headers."""

from __future__ import annotations

import logging
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from paperradar.errors import ConfigError
from paperradar.web.site import CONTENT_SECURITY_POLICY

logger = logging.getLogger(__name__)

# Only a header can forbid framing; a <meta> policy ignores frame-ancestors.
HEADER_POLICY = f"{CONTENT_SECURITY_POLICY}; frame-ancestors 'none'"


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
