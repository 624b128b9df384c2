"""A loopback WeCom group-bot webhook: checks the key and the 4096-byte limit as WeCom does.

Replies have WeCom's shape, `{"errcode": 0, "errmsg": "ok"}` or another errcode; a queue of
scripted replies (or HTTP statuses) answers first.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

WEBHOOK_PATH = "/cgi-bin/webhook/send"
MAX_CONTENT_BYTES = 4096


@dataclass(frozen=True)
class WebhookReply:
    """One answer: an HTTP status and a JSON body."""

    status: int = 200
    body: dict[str, Any] = field(default_factory=lambda: {"errcode": 0, "errmsg": "ok"})


def errcode(code: int, message: str) -> WebhookReply:
    """A 200 answer carrying a WeCom error code."""
    return WebhookReply(body={"errcode": code, "errmsg": message})


class WebhookServer:
    """Answers POST /cgi-bin/webhook/send?key=… for the bots (keys) it was given."""

    def __init__(self, server: HTTPServer, *, keys: tuple[str, ...] = ("lab-key",)) -> None:
        self.server = server
        self.keys = keys
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self._queue: deque[WebhookReply] = deque()
        self._lock = threading.Lock()
        server.expect_request(WEBHOOK_PATH, method="POST").respond_with_handler(self._handle)

    def url(self, key: str = "lab-key") -> str:
        """The webhook address of one bot."""
        return self.server.url_for(f"{WEBHOOK_PATH}?key={key}")

    def script(self, *replies: WebhookReply) -> None:
        """Answer the next posts with these replies, in order."""
        with self._lock:
            self._queue.extend(replies)

    @property
    def contents(self) -> list[str]:
        """The markdown content of every accepted post, in order."""
        return [body["markdown"]["content"] for _, body in self.posts]

    def _handle(self, request: Request) -> Response:
        key = request.args.get("key", "")
        body = json.loads(request.get_data(as_text=True))
        with self._lock:
            scripted = self._queue.popleft() if self._queue else None
        reply = scripted or self._check(key, body)
        if reply.status == 200 and reply.body.get("errcode") == 0:
            with self._lock:
                self.posts.append((key, body))
        return Response(json.dumps(reply.body), status=reply.status, mimetype="application/json")

    def _check(self, key: str, body: dict[str, Any]) -> WebhookReply:
        if key not in self.keys:
            return errcode(93000, "invalid webhook url, hint: [1760500000_test]")
        if body.get("msgtype") != "markdown":
            return errcode(40008, "invalid message type")
        content = body.get("markdown", {}).get("content", "")
        if len(content.encode("utf-8")) > MAX_CONTENT_BYTES:
            return errcode(40058, "markdown.content exceed max length 4096")
        return WebhookReply()
