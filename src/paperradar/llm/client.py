"""LLMClient: JSON replies checked by a pydantic contract, from any OpenAI-compatible endpoint."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from paperradar.errors import ConfigError, LLMOutputError, SourceUnavailableError, describe_invalid
from paperradar.llm.contract import ChatReply, extract_json, response_format
from paperradar.settings import LLMSettings

if TYPE_CHECKING:
    import openai
    from openai.types.chat import ChatCompletionMessageParam

logger = logging.getLogger(__name__)

T = TypeVar("T", bound=BaseModel)

# A local server (vLLM, Ollama) needs no key, but the openai client insists on one.
PLACEHOLDER_API_KEY = "not-needed"
REPAIR_REQUEST = (
    "Your reply did not satisfy the output contract: {problems}. "
    "Reply again with only the corrected JSON object: no prose, no code fences."
)
REPAIR_ATTEMPTS = 1


@dataclass(frozen=True)
class Usage:
    """Tokens and requests spent, summed over every call an answer took."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0

    @classmethod
    def of(cls, replies: Sequence[ChatReply]) -> Usage:
        """Sum the usage the provider reported on each reply."""
        counted = [reply.usage for reply in replies if reply.usage]
        return cls(
            prompt_tokens=sum(usage.prompt_tokens or 0 for usage in counted),
            completion_tokens=sum(usage.completion_tokens or 0 for usage in counted),
            calls=len(replies),
        )

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.calls + other.calls,
        )


@dataclass(frozen=True)
class Completion(Generic[T]):
    """A validated reply, what it cost, and the check problems of any reply repaired first."""

    value: T
    usage: Usage
    flagged: tuple[str, ...] = ()


class RejectedReplyError(LLMOutputError):
    """No usable reply: what was spent on it, and the check problems it was rejected for."""

    def __init__(self, message: str, *, usage: Usage, flagged: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.usage = usage
        self.flagged = tuple(flagged)


class LLMClient:
    """One OpenAI-compatible chat-completions endpoint; a provider is only its settings."""

    def __init__(self, settings: LLMSettings) -> None:
        if not (settings.enabled and settings.model):
            raise ConfigError(
                "LLM not configured (set PAPERRADAR_LLM__BASE_URL and PAPERRADAR_LLM__MODEL)"
            )
        self.settings = settings
        self.model: str = settings.model
        api_key = settings.api_key.get_secret_value() if settings.api_key else PLACEHOLDER_API_KEY
        # Imported here: openai takes a second to import, and a run without an LLM never needs it.
        import openai

        # The client retries 408/409/429/5xx and timeouts itself, honouring Retry-After.
        self._client = openai.OpenAI(
            base_url=settings.base_url,
            api_key=api_key,
            timeout=settings.timeout_seconds,
            max_retries=settings.max_retries,
        )

    def complete_json(
        self,
        system: str,
        user: str,
        schema: type[T],
        *,
        context: Mapping[str, object] | None = None,
        check: Callable[[T], Sequence[str]] | None = None,
    ) -> Completion[T]:
        """Ask for a JSON object satisfying `schema` and `check`; repair once, then raise.

        Args:
            context: passed to the schema's validators (e.g. which topic keys must appear).
            check: a second validation on the parsed value (e.g. faithfulness to the source);
                the problems it returns are sent back in the repair request like a schema error.

        Raises:
            RejectedReplyError: a body that is not a chat completion, a refusal, a cut-off
                or empty reply, or two replies that fail.
        """
        messages: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": system},
            {"role": "user", "content": user},
        ]
        replies: list[ChatReply] = []
        flagged: list[str] = []
        while True:
            replies.append(self._ask(messages, schema, spent=Usage.of(replies)))
            try:
                value = self._validate(replies[-1], schema, context)
                found = list(check(value)) if check else []
                flagged += found
                problems = "; ".join(found)
            except ValidationError as error:
                problems = describe_invalid(error)
            if not problems:
                return Completion(value, Usage.of(replies), tuple(flagged))
            if len(replies) == REPAIR_ATTEMPTS + 1:
                raise RejectedReplyError(
                    f"reply does not satisfy {schema.__name__} after one repair attempt: "
                    f"{problems}",
                    usage=Usage.of(replies),
                    flagged=flagged,
                )
            logger.info("reply fails %s (%s); asking once for a repair", schema.__name__, problems)
            messages += [
                {"role": "assistant", "content": _content(replies[-1])},
                {"role": "user", "content": REPAIR_REQUEST.format(problems=problems)},
            ]

    def _ask(
        self, messages: list[ChatCompletionMessageParam], schema: type[BaseModel], *, spent: Usage
    ) -> ChatReply:
        """Make one request (the client retries it); reject all but a usable chat completion.

        The body is read as data, not through the openai client's parsing, which hands back
        a str for a non-JSON body and an unvalidated object for JSON of another shape.
        """
        import openai

        format_ = response_format(self.settings, schema)
        try:
            raw = self._client.chat.completions.with_raw_response.create(
                model=self.model,
                messages=messages,
                temperature=self.settings.temperature,
                response_format=format_ if format_ is not None else openai.omit,  # type: ignore[arg-type]
                extra_body=self.settings.extra_body,
            )
            body = raw.http_response.content
        except openai.APIError as error:
            raise _unavailable(error, self.settings) from error
        try:
            reply = ChatReply.model_validate_json(body)
        except ValidationError as error:
            content_type = raw.http_response.headers.get("content-type", "no content type")[:80]
            raise RejectedReplyError(
                f"{self.settings.base_url} answered HTTP {raw.http_response.status_code} "
                f"({content_type}, {len(body):,} bytes) with no chat completion: "
                f"{describe_invalid(error)}",
                usage=spent + Usage(calls=1),
            ) from error
        problem = _unusable(reply, self.settings)
        if problem:
            raise RejectedReplyError(problem, usage=spent + Usage.of([reply]))
        return reply

    @staticmethod
    def _validate(reply: ChatReply, schema: type[T], context: Mapping[str, object] | None) -> T:
        return schema.model_validate_json(
            extract_json(_content(reply)), context=dict(context) if context else None
        )


def _unusable(reply: ChatReply, settings: LLMSettings) -> str | None:
    """Say why a reply cannot be used at all (no repair can help), or None."""
    choice = reply.choices[0]
    if choice.message.refusal:
        return f"the model refused: {choice.message.refusal[:200]}"
    if choice.finish_reason == "content_filter":
        return "the provider's content filter stopped the reply"
    if choice.finish_reason == "length":
        return (
            "the reply was cut off at the model's output-token limit (finish_reason=length); "
            "use a model or server setting that allows longer replies"
        )
    if choice.message.content is None:
        return f"{settings.base_url} sent a reply with no content (message.content is null)"
    return None


def _content(reply: ChatReply) -> str:
    return reply.choices[0].message.content or ""


def _unavailable(
    error: openai.APIError, settings: LLMSettings
) -> ConfigError | SourceUnavailableError:
    """Turn what the openai client gave up on into an error that says what to do."""
    import openai

    where = f"LLM endpoint {settings.base_url}"
    retries = f"after {settings.max_retries} retries"
    if isinstance(error, openai.APITimeoutError):
        return SourceUnavailableError(
            f"{where} timed out ({settings.timeout_seconds:g} s per request) {retries} "
            "(raise PAPERRADAR_LLM__TIMEOUT_SECONDS, or check the server's load)"
        )
    if isinstance(error, openai.APIConnectionError):
        return SourceUnavailableError(
            f"cannot reach {where} {retries}: {error} "
            "(check PAPERRADAR_LLM__BASE_URL and that the server is running)"
        )
    if not isinstance(error, openai.APIStatusError):
        return SourceUnavailableError(f"{where} sent an unreadable reply: {error}")
    status = error.status_code
    detail = _provider_message(error)
    if status in (401, 403):
        # Every request would fail the same way: stop the stage rather than record N failures.
        return ConfigError(
            f"{where} refused the API key (HTTP {status}: {detail}) (set PAPERRADAR_LLM__API_KEY)"
        )
    hints = {
        400: "if it names response_format, set PAPERRADAR_LLM__JSON_MODE to json_object or none",
        404: "check PAPERRADAR_LLM__MODEL, and that PAPERRADAR_LLM__BASE_URL ends in /v1",
        429: "rate limited: lower PAPERRADAR_LLM__CONCURRENCY or raise PAPERRADAR_LLM__MAX_RETRIES",
    }
    hint = hints.get(status, "failed summaries are retried on the next run")
    # The client retries these statuses itself; others fail on the first answer.
    retried = status in (408, 409, 429) or status >= 500
    after = f" after {settings.max_retries} retries" if retried else ""
    return SourceUnavailableError(f"{where} answered HTTP {status}{after}: {detail} ({hint})")


def _provider_message(error: openai.APIStatusError) -> str:
    body = error.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, dict) else inner
        if message:
            return str(message)[:300]
    return json.dumps(body)[:300] if body is not None else error.message[:300]
