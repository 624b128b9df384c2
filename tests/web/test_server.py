"""`serve --role web` over real HTTP: gzip for text, validators and cache lifetimes."""

from __future__ import annotations

import gzip
import http.client
from collections.abc import Iterator

import pytest
from support.web_site import SECOND_DAY, WebArchive

from paperradar.web.server import ASSET_CACHE, PAGE_CACHE, accepts_gzip, start_server, stop_server

pytestmark = pytest.mark.slow


@pytest.fixture
def server_port(web_archive_of) -> Iterator[tuple[WebArchive, int]]:  # type: ignore[no-untyped-def]
    archive: WebArchive = web_archive_of("sqlite")
    server = start_server(archive.site, "127.0.0.1", 0)
    yield archive, server.server_address[1]
    stop_server(server)


def _request(
    port: int, path: str, method: str = "GET", **headers: str
) -> tuple[int, http.client.HTTPMessage, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(
            method, path, headers={k.replace("_", "-"): v for k, v in headers.items()}
        )
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def test_text_is_gzipped_for_clients_that_accept_it(server_port: tuple[WebArchive, int]) -> None:
    archive, port = server_port
    page = f"/default/{SECOND_DAY.isoformat()}.html"
    original = (archive.site / page.lstrip("/")).read_bytes()

    status, headers, body = _request(port, page, Accept_Encoding="br, gzip;q=0.8")
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Vary"] == "Accept-Encoding"
    assert int(headers["Content-Length"]) == len(body) < len(original) / 2
    assert gzip.decompress(body) == original

    status, headers, body = _request(port, page)
    assert headers["Content-Encoding"] is None and body == original

    _, headers, body = _request(port, page, Accept_Encoding="gzip;q=0")
    assert headers["Content-Encoding"] is None and body == original

    for script in ("/assets/search.js", "/assets/site.css", "/default/feed.atom"):
        _, headers, _ = _request(port, script, Accept_Encoding="gzip")
        assert headers["Content-Encoding"] == "gzip", script


def test_pages_revalidate_within_minutes_and_assets_keep_for_a_day(
    server_port: tuple[WebArchive, int],
) -> None:
    _, port = server_port
    status, headers, _ = _request(port, "/", Accept_Encoding="gzip")
    assert status == 200 and headers["Cache-Control"] == PAGE_CACHE == "public, max-age=300"
    etag, modified = headers["ETag"], headers["Last-Modified"]
    assert etag.endswith('-gz"') and modified.endswith("GMT")

    status, headers, body = _request(port, "/", Accept_Encoding="gzip", If_None_Match=etag)
    assert status == 304 and body == b"" and headers["ETag"] == etag
    status, _, _ = _request(port, "/", If_None_Match=etag)  # the plain copy is another variant
    assert status == 200
    status, _, _ = _request(port, "/index.html", If_Modified_Since=modified)
    assert status == 304

    _, headers, _ = _request(port, "/assets/site.css")
    assert headers["Cache-Control"] == ASSET_CACHE == "public, max-age=86400"
    status, headers, body = _request(port, "/assets/site.css", "HEAD", Accept_Encoding="gzip")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) > 0


def test_folders_and_missing_files_answer_as_before(server_port: tuple[WebArchive, int]) -> None:
    _, port = server_port
    status, headers, _ = _request(port, "/default")
    assert status == 301 and headers["Location"] == "/default/"
    assert _request(port, "/default/topics/")[0] == 404
    assert _request(port, "/no-such-page.html")[0] == 404
    assert _request(port, "/index.html/")[0] == 404


def test_accept_encoding_is_read_with_its_weights() -> None:
    assert accepts_gzip("gzip, deflate, br")
    assert accepts_gzip("br;q=1.0, gzip;q=0.5")
    assert accepts_gzip("*")
    assert not accepts_gzip("gzip;q=0")
    assert not accepts_gzip("identity")
    assert not accepts_gzip("")
