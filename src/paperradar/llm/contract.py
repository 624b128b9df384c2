"""The JSON contracts of the LLM's replies: what a reply is, how one is asked for and found."""

import json
import re
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field, StringConstraints

from paperradar.settings import LLMSettings
from paperradar.text import clean_text

THINKING = re.compile(r"<think>.*?</think>", re.DOTALL)
FENCE = re.compile(r"```(?:json|JSON)?[ \t]*\n?(.*?)```", re.DOTALL)
DECODER = json.JSONDecoder()


def _cleaned(value: object) -> object:
    """Clean a text the model wrote as input text is (no NUL, controls or bidi overrides)."""
    return clean_text(value) if isinstance(value, str) else value


# A string field the model must fill: cleaned, surrounding whitespace stripped, empty refused.
# (A validator wraps the metadata before it, so the cleaning comes last to run first.)
NonEmpty = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1), BeforeValidator(_cleaned)
]


# A chat completion as the client reads it: only the fields it uses, each checked, so an
# endpoint's reply is data like any other input (an HTML error page sent with HTTP 200, a
# JSON body without choices) and never an object whose missing parts fail when touched.
# Other fields and unknown finish reasons pass, as lenient OpenAI-compatible servers send them.


class ReplyMessage(BaseModel):
    """The assistant message of a choice."""

    content: str | None = None
    refusal: str | None = None


class ReplyChoice(BaseModel):
    """One choice of a chat completion."""

    message: ReplyMessage
    finish_reason: str | None = None


class ReplyUsage(BaseModel):
    """The tokens a provider says a request took."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class ChatReply(BaseModel):
    """A chat-completions response body: at least one choice, and usage when reported."""

    choices: list[ReplyChoice] = Field(min_length=1)
    usage: ReplyUsage | None = None


def extract_json(reply: str) -> str:
    """Return the JSON object inside a reply: drop reasoning blocks, code fences and prose.

    Prose around the object may hold braces of its own (an abstract quoted back, a stray
    example), so the longest span that parses as a JSON object wins; when none parses, the
    text from the first `{` to the last `}` is returned for the validator to describe.
    """
    text = THINKING.sub("", reply).strip()
    fenced = FENCE.search(text)
    if fenced:
        text = fenced.group(1).strip()
    best = ""
    position = text.find("{")
    while position >= 0:
        try:
            value, end = DECODER.raw_decode(text, position)
        except json.JSONDecodeError:
            position = text.find("{", position + 1)
            continue
        if isinstance(value, dict) and end - position > len(best):
            best = text[position:end]
        position = text.find("{", end)
    if best:
        return best
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if 0 <= start < end else text


def response_format(settings: LLMSettings, schema: type[BaseModel]) -> dict[str, object] | None:
    """Return the `response_format` to send for the configured JSON mode (None: send none)."""
    if settings.json_mode == "none":
        return None
    if settings.json_mode == "json_object":
        return {"type": "json_object"}
    contract = schema.model_json_schema()
    return {
        "type": "json_schema",
        "json_schema": {
            "name": schema.__name__,
            "schema": contract,
            "strict": _is_closed(contract),
        },
    }


def _is_closed(node: object) -> bool:
    """Whether every object in a JSON schema forbids extra keys, as OpenAI's strict mode demands.

    A `dict[str, X]` field is an open object, so a contract holding one is sent with strict off:
    OpenAI rejects it otherwise, while vLLM and others constrain decoding with it all the same.
    """
    if isinstance(node, list):
        return all(_is_closed(item) for item in node)
    if not isinstance(node, dict):
        return True
    if node.get("type") == "object" and node.get("additionalProperties", True) is not False:
        return False
    return all(_is_closed(value) for value in node.values())
