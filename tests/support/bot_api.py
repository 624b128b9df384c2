"""A Telegram Bot API server on loopback (aiohttp): records what bots send, serves queued updates.

It speaks the real wire format that python-telegram-bot uses (form-encoded requests, JSON
replies, `{"ok": false, "error_code": ...}` errors) and checks sent HTML the way Telegram does,
so unescaped text from a paper is a 400 here just as it is there.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "123456:TEST-token"
BOT_USER = {
    "id": 123456,
    "is_bot": True,
    "first_name": "PaperRadar",
    "username": "paperradar_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
# Telegram's HTML subset (Bot API "HTML style"); `<blockquote expandable>` has a bare attribute.
ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "blockquote",
    "tg-spoiler",
}  # fmt: skip
TAG = re.compile(r"<(/?)([a-zA-Z-]+)((?:\s+[a-z-]+(?:=\"[^\"]*\")?)*)\s*>")
ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")
MAX_TEXT = 4096
WAIT_SECONDS = 30.0
# How the bot's /help reply begins (`Chat.replies_to` sends /help as a sentinel).
# The end of the first line's bold product name, in either language of /help.
HELP_HEAD = "PaperRadar</b>"


def check_html(text: str) -> str | None:
    """Return Telegram's complaint about a text in its HTML subset, or None when it parses."""
    stack: list[str] = []
    for match in TAG.finditer(text):
        closing, name = match.group(1), match.group(2).lower()
        if name not in ALLOWED_TAGS:
            return f'Bad Request: can\'t parse entities: unsupported start tag "{name}"'
        if not closing:
            stack.append(name)
        elif not stack or stack.pop() != name:
            return f'Bad Request: can\'t parse entities: unmatched end tag "{name}"'
    if stack:
        return f'Bad Request: can\'t parse entities: unclosed start tag "{stack[-1]}"'
    plain = TAG.sub("", text)
    if "<" in plain or ">" in plain:
        return "Bad Request: can't parse entities: unexpected < or >"
    if "&" in ENTITY.sub("", plain):
        return "Bad Request: can't parse entities: unsupported HTML entity"
    visible = html.unescape(plain)
    if len(visible.encode("utf-16-le")) // 2 > MAX_TEXT:
        return "Bad Request: message is too long"
    return None


@dataclass(frozen=True)
class Failure:
    """A scripted error reply: HTTP status, description and optional retry_after."""

    status: int
    description: str
    retry_after: int | None = None


@dataclass
class Sent:
    """One message a bot sent (sendMessage) as the server stored it."""

    message_id: int
    chat_id: int
    text: str
    parse_mode: str | None
    reply_markup: dict[str, Any] | None

    def as_message(self) -> dict[str, Any]:
        """The Message object the Bot API returns for it."""
        message: dict[str, Any] = {
            "message_id": self.message_id,
            "date": int(time.time()),
            "chat": {"id": self.chat_id, "type": "private" if self.chat_id > 0 else "group"},
            "from": BOT_USER,
            "text": self.text,
        }
        if self.reply_markup:
            message["reply_markup"] = self.reply_markup
        return message


@dataclass
class BotApiState:
    """Everything the server saw and everything scripted for it, guarded by one condition."""

    calls: list[str] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    answers: list[dict[str, str]] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)
    chat_actions: list[dict[str, str]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    failures: dict[int, deque[Failure | None]] = field(default_factory=dict)
    blocked: set[int] = field(default_factory=set)


class BotApiServer:
    """The loopback Bot API: `base_url` goes into settings; tests push updates and read `sent`."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.state = BotApiState()
        self.condition = threading.Condition()
        # Called with each accepted sendMessage before the reply goes out (crash tests kill here).
        self.on_send: Callable[[Sent], None] | None = None
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        """The `telegram.base_url` setting that reaches this server."""
        return f"http://127.0.0.1:{self.port}/bot"

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Serve on a free loopback port in a background thread."""
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the Bot API server did not start")

    def stop(self) -> None:
        """Stop serving and join the thread."""
        if self._loop is not None and self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def _serve(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._dispatch)
        self._runner = web.AppRunner(app)
        loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        self.port = self._runner.addresses[0][1]
        ready.set()
        loop.run_forever()
        loop.close()

    # --- scripting and reading, from the test thread -----------------------------------

    def fail_next(self, chat_id: int, *failures: Failure | None) -> None:
        """Answer the next sendMessage calls to a chat with these errors (None: accept one)."""
        with self.condition:
            self.state.failures.setdefault(chat_id, deque()).extend(failures)

    def block(self, chat_id: int) -> None:
        """Answer every sendMessage to a chat with 403 (the user blocked the bot)."""
        with self.condition:
            self.state.blocked.add(chat_id)

    def sent_to(self, chat_id: int) -> list[Sent]:
        """Return the messages sent to one chat, in order."""
        with self.condition:
            return [sent for sent in self.state.sent if sent.chat_id == chat_id]

    def wait_for(self, predicate: Callable[[BotApiState], bool], what: str) -> None:
        """Block until the predicate holds over the state (fails the test after 30 s)."""
        deadline = time.monotonic() + WAIT_SECONDS
        with self.condition:
            while not predicate(self.state):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"the Bot API server never saw {what}")
                self.condition.wait(left)

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates; return its update_id."""
        with self.condition:
            update_id = next(self._update_ids)
            self.state.updates.append({"update_id": update_id, **update})
            self.condition.notify_all()
        return update_id

    def push_command(
        self, chat_id: int, text: str, *, user_id: int | None = None, language: str = "en"
    ) -> int:
        """Queue a user's text message (a command when it starts with `/`)."""
        message: dict[str, Any] = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            "from": _user(user_id or abs(chat_id), language),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return self.push_update({"message": message})

    def push_button(self, sent: Sent, data: str, *, user_id: int | None = None) -> int:
        """Queue a press of an inline button under a message the bot sent."""
        query = {
            "id": f"cq{next(self._ids)}",
            "from": _user(user_id or abs(sent.chat_id), "en"),
            "chat_instance": f"ci{sent.chat_id}",
            "data": data,
            "message": sent.as_message(),
        }
        return self.push_update({"callback_query": query})

    # --- the Bot API -------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = {key: str(value) for key, value in (await request.post()).items()}
        with self.condition:
            self.state.calls.append(method)
            self.condition.notify_all()
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return (
                _ok(True)
                if method in {"deleteWebhook", "setMyCommands"}
                else _error(404, "Not Found: method not found")
            )
        result: web.Response = await handler(params)
        return result

    async def _api_getMe(self, _params: dict[str, str]) -> web.Response:
        return _ok(BOT_USER)

    async def _api_getUpdates(self, params: dict[str, str]) -> web.Response:
        offset = int(params.get("offset", "0"))
        deadline = time.monotonic() + float(params.get("timeout", "0"))
        while True:
            with self.condition:
                # An offset confirms (and so drops) every earlier update, as on Telegram.
                self.state.updates = [u for u in self.state.updates if u["update_id"] >= offset]
                ready = list(self.state.updates)
            if ready or time.monotonic() >= deadline:
                return _ok(ready)
            await asyncio.sleep(0.02)

    async def _api_sendMessage(self, params: dict[str, str]) -> web.Response:
        chat_id = int(params["chat_id"])
        text = params["text"]
        with self.condition:
            scripted = self.state.failures.get(chat_id)
            failure = scripted.popleft() if scripted else None
            if chat_id in self.state.blocked:
                failure = Failure(403, "Forbidden: bot was blocked by the user")
        if failure is None and params.get("parse_mode") == "HTML":
            problem = check_html(text)
            failure = Failure(400, problem) if problem else None
        if failure is not None:
            return _error(failure.status, failure.description, failure.retry_after)
        markup = json.loads(params["reply_markup"]) if "reply_markup" in params else None
        sent = Sent(next(self._ids), chat_id, text, params.get("parse_mode"), markup)
        with self.condition:
            self.state.sent.append(sent)
            self.condition.notify_all()
        # The chat has the message now, whether or not the sender lives to read this reply.
        if self.on_send is not None:
            self.on_send(sent)
        return _ok(sent.as_message())

    async def _api_sendChatAction(self, params: dict[str, str]) -> web.Response:
        with self.condition:
            self.state.chat_actions.append(params)
            self.condition.notify_all()
        return _ok(True)

    async def _api_answerCallbackQuery(self, params: dict[str, str]) -> web.Response:
        with self.condition:
            self.state.answers.append(params)
            self.condition.notify_all()
        return _ok(True)

    async def _api_editMessageReplyMarkup(self, params: dict[str, str]) -> web.Response:
        edit = {**params, "reply_markup": json.loads(params.get("reply_markup", "null"))}
        with self.condition:
            self.state.edits.append(edit)
            self.condition.notify_all()
            original = next(
                (s for s in self.state.sent if str(s.message_id) == params.get("message_id")), None
            )
        if original is None:
            return _error(400, "Bad Request: message to edit not found")
        original.reply_markup = edit["reply_markup"]
        return _ok(original.as_message())


class Chat:
    """Talk to the running bot as a user of one chat, and read its replies."""

    def __init__(self, server: BotApiServer, chat_id: int, *, user_id: int | None = None) -> None:
        self.server, self.chat_id, self.user_id = server, chat_id, user_id or chat_id

    def say(self, text: str, *, replies: int = 1, language: str = "en") -> list[Sent]:
        """Send a message and return the bot's next `replies` messages to this chat."""
        before = len(self.server.sent_to(self.chat_id))
        self.server.push_command(self.chat_id, text, user_id=self.user_id, language=language)
        self.server.wait_for(
            lambda state: sum(s.chat_id == self.chat_id for s in state.sent) >= before + replies,
            f"{replies} repl(ies) to {text!r}",
        )
        return self.server.sent_to(self.chat_id)[before : before + replies]

    def ask(self, text: str, **options: Any) -> str:
        """Send a message and return the text of the bot's one reply."""
        return self.say(text, **options)[0].text

    def replies_to(self, text: str, *, replies: int) -> list[Sent]:
        """Send a message and check that exactly `replies` replies come; return them.

        A /help follows the message as a sentinel: the bot answers one chat's updates in
        order, so the /help's reply comes after everything the message caused.
        """
        before = len(self.server.sent_to(self.chat_id))
        self.server.push_command(self.chat_id, text, user_id=self.user_id)
        self.server.push_command(self.chat_id, "/help", user_id=self.user_id)
        self.server.wait_for(
            lambda state: sum(s.chat_id == self.chat_id for s in state.sent) > before + replies,
            f"{replies} repl(ies) to {text!r}, then the /help after it",
        )
        got = self.server.sent_to(self.chat_id)[before:]
        assert HELP_HEAD in got[replies].text.split("\n")[0], f"not {replies} repl(ies): {got}"
        return got[:replies]


def _user(user_id: int, language: str) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "Reader", "language_code": language}


def _ok(result: object) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status)


@contextmanager
def bot_api_server() -> Iterator[BotApiServer]:
    """Run a Bot API server for the duration of the block."""
    server = BotApiServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def running_bot(ctx: Any) -> Iterator[None]:
    """Run the bot as `paperradar serve` does (`bot.__main__.serve_until`) in a thread."""
    from bot.__main__ import serve_until

    stop = threading.Event()
    failure: list[BaseException] = []

    def target() -> None:
        try:
            serve_until(ctx, stop, poll_timeout=0.2)
        except BaseException as error:  # handed to the test thread, which re-raises it
            failure.append(error)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(30)
    if failure:
        raise failure[0]
