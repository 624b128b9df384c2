"""A loopback arXiv: recorded RSS bytes and API cassettes served by pytest-httpserver."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from paperradar.app import App
from paperradar.settings import ArxivSettings

RSS_PATH = "/rss/{categories}"
API_PATH = "/api/query"
ATOM = "application/atom+xml; charset=utf-8"


@dataclass(frozen=True)
class Cassette:
    """One recorded arXiv API exchange: the URL asked, the status and the Atom body answered."""

    url: str
    status: int
    body: str

    @property
    def start(self) -> int:
        """The `start` parameter of the recorded request."""
        return int(parse_qs(urlsplit(self.url).query)["start"][0])


def load_cassette(path: Path) -> Cassette:
    """Read a `*.cassette.json` file (url, status_code, body)."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return Cassette(url=data["url"], status=int(data["status_code"]), body=data["body"])


def serve_api(server: HTTPServer, *cassettes: Cassette) -> None:
    """Answer API queries with the cassette recorded for the request's `start` (a results page)."""
    by_start = {cassette.start: cassette for cassette in cassettes}

    def answer(request: Request) -> Response:
        cassette = by_start.get(int(request.args.get("start", "0")))
        if cassette is None:
            return Response(f"no cassette for {request.query_string!r}", status=404)
        return Response(cassette.body, status=cassette.status, content_type=ATOM)

    server.expect_request(API_PATH).respond_with_handler(answer)


def api_requests(server: HTTPServer) -> list[dict[str, str]]:
    """Return the query parameters of every API request the server received, in order."""
    return [dict(request.args) for request, _ in server.log if request.path == API_PATH]


def api_settings(server: HTTPServer, **changes: Any) -> ArxivSettings:
    """ArxivSettings on the loopback API: no politeness delay (loopback only), one retry."""
    values: dict[str, Any] = {
        "api_url": server.url_for(API_PATH),
        "api_delay_seconds": 0,
        "api_num_retries": 1,
    }
    return ArxivSettings(**{**values, **changes})


def rss_settings(server: HTTPServer, **changes: Any) -> ArxivSettings:
    """ArxivSettings on the loopback RSS feed: no backoff between retries, short timeout."""
    values: dict[str, Any] = {
        "rss_url": server.url_for(RSS_PATH),
        "rss_backoff_seconds": 0,
        "timeout_seconds": 10,
    }
    return ArxivSettings(**{**values, **changes})


def rss_path(settings: ArxivSettings) -> str:
    """The request path the combined feed of the configured categories is asked at."""
    return RSS_PATH.format(categories="+".join(settings.categories))


def with_arxiv(context: App, arxiv: ArxivSettings) -> App:
    """Return the context with other arXiv settings."""
    settings = context.settings.model_copy(update={"arxiv": arxiv})
    return dataclasses.replace(context, settings=settings)
