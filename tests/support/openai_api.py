"""A loopback OpenAI-compatible chat-completions server, scripted reply by reply or per request.

The replies have the shapes real providers send: a `chat.completion` object with `choices`,
`finish_reason`, `refusal` and `usage`, or an `{"error": {...}}` body with an HTTP status; or,
as a broken proxy or server does, any raw body (an HTML page, truncated JSON) with any status.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

CHAT_PATH = "/v1/chat/completions"
ABSTRACT_FENCE = re.compile(r"<abstract>\n(.*)\n</abstract>", re.DOTALL)
TOPIC_LINE = re.compile(r"^- `([a-z0-9_]+)`:", re.MULTILINE)


@dataclass(frozen=True)
class Reply:
    """One HTTP answer: status, JSON body, headers, and how long to stall before sending it.

    `raw`, when set, is sent instead of `body`, byte for byte, as `content_type`.
    """

    status: int = 200
    body: Any = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0
    raw: str | bytes | None = None
    content_type: str = "application/json"


def raw_reply(raw: str | bytes, *, content_type: str, status: int = 200) -> Reply:
    """An answer with a body that is not a chat completion: HTML, plain text, broken JSON."""
    return Reply(status=status, raw=raw, content_type=content_type)


def completion(
    content: str | None,
    *,
    finish_reason: str = "stop",
    refusal: str | None = None,
    model: str = "qwen-test",
    prompt_tokens: int = 900,
    completion_tokens: int = 400,
) -> Reply:
    """A 200 `chat.completion` whose one choice carries `content`."""
    return Reply(
        body={
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": 1760500000,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": refusal},
                    "logprobs": None,
                    "finish_reason": finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
    )


def json_completion(value: dict[str, Any], **kwargs: Any) -> Reply:
    """A completion whose content is `value` as plain JSON text."""
    return completion(json.dumps(value, ensure_ascii=False), **kwargs)


def api_error(status: int, message: str, *, headers: dict[str, str] | None = None) -> Reply:
    """An error answer in OpenAI's `{"error": {...}}` shape."""
    kind = {429: "rate_limit_exceeded", 401: "invalid_api_key"}.get(status, "server_error")
    return Reply(
        status=status,
        body={"error": {"message": message, "type": kind, "param": None, "code": kind}},
        headers=headers or {},
    )


@dataclass(frozen=True)
class ChatRequest:
    """A chat-completions request as the server received it."""

    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The request's messages, in order."""
        return list(self.body["messages"])

    def text(self, role: str) -> str:
        """The content of the first message with this role."""
        return next(str(m["content"]) for m in self.messages if m["role"] == role)

    @property
    def abstract(self) -> str:
        """The text inside the user message's <abstract> fence."""
        match = ABSTRACT_FENCE.search(self.text("user"))
        if match is None:
            raise AssertionError("no <abstract> fence in the user message")
        return match.group(1)

    @property
    def title(self) -> str:
        """The paper title named in the user message."""
        return next(
            line.removeprefix("Title: ")
            for line in self.text("user").splitlines()
            if line.startswith("Title: ")
        )

    @property
    def topic_keys(self) -> list[str]:
        """The topic keys the user message asks a reason for."""
        return TOPIC_LINE.findall(self.text("user"))


Responder = Callable[[ChatRequest], Reply]


class ChatServer:
    """Answers POST /v1/chat/completions from a queue of replies, then from a responder."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.requests: list[ChatRequest] = []
        self._queue: deque[Reply] = deque()
        self._responder: Responder | None = None
        self._lock = threading.Lock()
        server.expect_request(CHAT_PATH, method="POST").respond_with_handler(self._handle)

    @property
    def base_url(self) -> str:
        """The `base_url` an OpenAI client is given."""
        return self.server.url_for("/v1")

    def script(self, *replies: Reply) -> None:
        """Answer the next requests with these replies, in order."""
        with self._lock:
            self._queue.extend(replies)

    def respond_with(self, responder: Responder) -> None:
        """Answer every request the queue does not cover by calling `responder`."""
        self._responder = responder

    def _handle(self, request: Request) -> Response:
        chat = ChatRequest(json.loads(request.get_data(as_text=True)), dict(request.headers))
        with self._lock:
            self.requests.append(chat)
            scripted = self._queue.popleft() if self._queue else None
        if scripted is not None:
            reply = scripted
        elif self._responder is not None:
            reply = self._responder(chat)
        else:
            # 418 is not retried by the client, so an unscripted call fails fast and visibly.
            reply = api_error(418, "the test server has no reply scripted for this request")
        if reply.delay_seconds:
            time.sleep(reply.delay_seconds)
        return Response(
            json.dumps(reply.body, ensure_ascii=False) if reply.raw is None else reply.raw,
            status=reply.status,
            headers=reply.headers,
            content_type=reply.content_type,
        )


def load_bilingual_day(path: Path) -> list[dict[str, Any]]:
    """Read the real day of upstream Chinese AI summaries (one JSON object a line)."""
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def first_sentence(text: str) -> str:
    """The first sentence of an English abstract, on one line."""
    flat = " ".join(text.split())
    head, dot, _ = flat.partition(". ")
    return head + (dot.strip() or "")


def first_clause(text: str) -> str:
    """The first clause of a Chinese sentence (up to its first comma or full stop)."""
    return re.split(r"[，。；：]", text, maxsplit=1)[0]


def draft_from_row(row: dict[str, Any], topic_keys: Sequence[str]) -> dict[str, Any]:
    """A contract-shaped reply built from a real upstream summary of the same paper."""
    ai = row["AI"]
    return {
        "title_zh": f"{first_clause(ai['method'])}: {row['title']}",
        "abstract_zh": "".join(
            ai[part] for part in ("motivation", "method", "result", "conclusion")
        ),
        "tldr_zh": ai["tldr"],
        "tldr_en": first_sentence(row["summary"]),
        "why_by_topic": {
            key: {"zh": ai["motivation"], "en": first_sentence(row["summary"])}
            for key in topic_keys
        },
    }


def echo_draft(row: dict[str, Any], topic_keys: Sequence[str]) -> dict[str, Any]:
    """A contract-shaped reply that only repeats the paper's own words: faithful by making."""
    title, sentence = row["title"], first_sentence(row["summary"])
    return {
        "title_zh": f"论文：{title}",
        "abstract_zh": "译文：" + " ".join(row["summary"].split()),
        "tldr_zh": f"本文提出：{sentence}",
        "tldr_en": sentence,
        "why_by_topic": {key: {"zh": f"相关：{sentence}", "en": sentence} for key in topic_keys},
    }


def is_upstream_failure(row: dict[str, Any]) -> bool:
    """Whether the upstream summariser failed on this row (it wrote "Error" in every field)."""
    return all(value == "Error" for value in row["AI"].values())


def answer_from_rows(rows: Sequence[dict[str, Any]]) -> Responder:
    """Answer each request with the real upstream summary of the paper whose abstract it fences.

    Where the upstream summariser failed, the reply is its output verbatim, which does not
    satisfy the contract.
    """
    by_abstract = {row["summary"].strip(): row for row in rows}

    def respond(request: ChatRequest) -> Reply:
        row = by_abstract[request.abstract]
        if is_upstream_failure(row):
            return json_completion(row["AI"])
        return json_completion(draft_from_row(row, request.topic_keys))

    return respond
