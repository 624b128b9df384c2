"""Signed unsubscribe links and the endpoint that honours them (RFC 8058 one-click POST)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import MIMEPart
from email.parser import BytesParser
from email.policy import HTTP
from functools import cache
from socketserver import ThreadingMixIn
from urllib.parse import parse_qs, urlencode, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import StartResponse, WSGIEnvironment

from itsdangerous import BadData, URLSafeSerializer
from jinja2 import Environment
from pydantic import SecretStr
from sqlalchemy import Engine

from paperradar.errors import ConfigError
from paperradar.jinja import build_environment
from paperradar.readers.subscriptions import deactivate
from paperradar.settings import EmailSettings
from paperradar.store.db import session_scope

logger = logging.getLogger(__name__)

# Binds a signature to this use, so no other HMAC made with the same secret passes as a token.
PURPOSE = "paperradar-unsubscribe-v1"
ONE_CLICK = ("List-Unsubscribe", "One-Click")
MAX_BODY_BYTES = 64 * 1024
# The token is in the URL: keep it out of referrers and caches, and the page out of frames.
PAGE_HEADERS = [
    ("Content-Type", "text/html; charset=utf-8"),
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    ),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
    ("X-Frame-Options", "DENY"),
]


@dataclass(frozen=True)
class Scope:
    """What a token stops: everything sent to one recipient on one channel."""

    channel: str
    recipient: str


def _serializer(secret: SecretStr) -> URLSafeSerializer:
    return URLSafeSerializer(secret.get_secret_value(), salt=PURPOSE)


def sign_token(secret: SecretStr, scope: Scope) -> str:
    """Return a URL-safe token naming the scope, signed with HMAC (deterministic)."""
    return str(_serializer(secret).dumps({"c": scope.channel, "r": scope.recipient}))


def verify_token(secret: SecretStr, token: str) -> Scope | None:
    """Return the token's scope when it is exactly a token this secret signed, else None."""
    serializer = _serializer(secret)
    try:
        data = serializer.loads(token)
    except BadData:
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("c", "r")):
        return None
    # Signing is deterministic: anything appended or re-encoded is not the token we sent.
    if serializer.dumps(data) != token:
        return None
    return Scope(channel=data["c"], recipient=data["r"])


def unsubscribe_url(base_url: str, secret: SecretStr, scope: Scope) -> str:
    """Return the one-click unsubscribe address for a scope."""
    return f"{base_url}?{urlencode({'token': sign_token(secret, scope)})}"


def is_one_click(content_type: str, body: bytes) -> bool:
    """Whether a POST body carries `List-Unsubscribe=One-Click` (urlencoded or multipart)."""
    if content_type.startswith("application/x-www-form-urlencoded"):
        fields = parse_qs(body.decode("utf-8", errors="replace"))
        return ONE_CLICK[1] in fields.get(ONE_CLICK[0], [])
    if content_type.startswith("multipart/form-data"):
        head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", errors="replace")
        message = BytesParser(policy=HTTP).parsebytes(head + body)
        return any(_is_one_click_field(part) for part in message.iter_parts())
    return False


def _is_one_click_field(part: MIMEPart) -> bool:
    payload = part.get_payload(decode=True)
    named = part.get_param("name", header="content-disposition") == ONE_CLICK[0]
    return named and isinstance(payload, bytes) and payload.strip() == ONE_CLICK[1].encode()


@cache
def _page_environment() -> Environment:
    return build_environment(autoescape=True)


class UnsubscribeApp:
    """A WSGI app: GET shows a confirm form (no change), POST one-click stops the subscription.

    GET never changes anything because mail scanners open links; RFC 8058 clients POST
    `List-Unsubscribe=One-Click` to the same URL, as the confirm form does. Stopping is
    idempotent, so a replayed POST answers the same page and changes nothing more.
    """

    def __init__(self, engine: Engine, *, secret: SecretStr, path: str = "/unsubscribe") -> None:
        self.engine = engine
        self.secret = secret
        self.path = path

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Answer one request."""
        if environ.get("PATH_INFO", "") != self.path:
            return self._page(start_response, "404 Not Found", "missing")
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "POST"):
            return self._page(start_response, "405 Method Not Allowed", "missing")
        token = parse_qs(environ.get("QUERY_STRING", "")).get("token", [""])[0]
        scope = verify_token(self.secret, token)
        if scope is None:
            return self._page(start_response, "400 Bad Request", "invalid")
        if method == "GET":
            return self._page(start_response, "200 OK", "confirm", scope=scope, token=token)
        if not is_one_click(environ.get("CONTENT_TYPE", ""), _read_body(environ)):
            return self._page(start_response, "400 Bad Request", "not-one-click")
        with session_scope(self.engine) as session:
            known = deactivate(session, channel=scope.channel, recipient=scope.recipient)
        logger.info("unsubscribe: one %s recipient stopped (known: %s)", scope.channel, known)
        return self._page(start_response, "200 OK", "done", scope=scope)

    def _page(
        self, start_response: StartResponse, status: str, state: str, **values: object
    ) -> list[bytes]:
        template = _page_environment().get_template("unsubscribe.html.j2")
        body = template.render(state=state, **values).encode("utf-8")
        headers = [*PAGE_HEADERS, ("Content-Length", str(len(body)))]
        if status.startswith("405"):
            headers.append(("Allow", "GET, POST"))
        start_response(status, headers)
        return [body]


def _read_body(environ: WSGIEnvironment) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return b""
    stream = environ["wsgi.input"]
    data: bytes = stream.read(min(max(length, 0), MAX_BODY_BYTES))
    return data


class QuietRequestHandler(WSGIRequestHandler):
    """Log requests through `logging`, without the query string (it holds the token)."""

    def log_message(self, format: str, *args: object) -> None:
        """Log the method and path only."""
        logger.debug("unsubscribe: %s %s", self.command, urlsplit(self.path).path)


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """A WSGI server answering each request in its own thread, so one slow client blocks none."""

    daemon_threads = True


def make_unsubscribe_server(app: UnsubscribeApp, *, host: str, port: int) -> WSGIServer:
    """Bind a server for the endpoint (port 0 picks a free one); not yet serving."""
    try:
        return make_server(
            host, port, app, server_class=ThreadingWSGIServer, handler_class=QuietRequestHandler
        )
    except OSError as error:
        raise ConfigError(
            f"cannot serve the unsubscribe endpoint on {host}:{port}: {error.strerror} "
            "(set PAPERRADAR_EMAIL__UNSUBSCRIBE_HOST and PAPERRADAR_EMAIL__UNSUBSCRIBE_PORT)"
        ) from error


def start_unsubscribe_server(engine: Engine, settings: EmailSettings) -> WSGIServer:
    """Serve the endpoint at the path of `email.unsubscribe_base_url` from a background thread."""
    if settings.unsubscribe_base_url is None or settings.unsubscribe_secret is None:
        raise ConfigError("email.unsubscribe_base_url and email.unsubscribe_secret must be set")
    path = urlsplit(settings.unsubscribe_base_url).path or "/"
    app = UnsubscribeApp(engine, secret=settings.unsubscribe_secret, path=path)
    server = make_unsubscribe_server(
        app, host=settings.unsubscribe_host, port=settings.unsubscribe_port
    )
    threading.Thread(target=server.serve_forever, name="unsubscribe", daemon=True).start()
    host, port = server.server_address[:2]
    logger.info("unsubscribe endpoint served at http://%s:%s%s", host, port, path)
    return server
