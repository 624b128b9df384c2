"""Prompts as data: `prompts/<name>.{system,user}.md` templates, hashed with their contract."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from jinja2 import Environment, StrictUndefined, Template, TemplateError
from pydantic import BaseModel

from paperradar.errors import ConfigError

# An abstract may carry its own <abstract> or </abstract> (by accident or as an injection);
# either would let text escape the fence it is placed in, so it is shown as an entity instead.
FENCE_TAG = re.compile(r"<\s*(/?)\s*abstract\b[^>]*>", re.IGNORECASE)


@dataclass(frozen=True)
class TopicBrief:
    """A topic as the LLM sees it: its key (used in the reply), title and description."""

    key: str
    title: str
    description: str


@dataclass(frozen=True)
class Prompt:
    """A system and a user template, the output contract they state, and the hash of all three."""

    name: str
    system_template: str
    user_template: str
    contract: str
    sha: str


@cache
def _environment() -> Environment:
    # Prompts are plain text, not HTML: nothing is escaped, and a missing variable is an error.
    return Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


@cache
def _compile(source: str) -> Template:
    return _environment().from_string(source)


def contract_of(schema: type[BaseModel]) -> str:
    """Return the JSON schema of an output contract as the text the prompt shows."""
    return json.dumps(schema.model_json_schema(), ensure_ascii=False, indent=2)


def prompt_sha(system_template: str, user_template: str, contract: str) -> str:
    """Hash both templates and the contract: changing any of them invalidates cached replies."""
    digest = hashlib.sha256()
    for part in (system_template, user_template, contract):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def load_prompt(prompts_dir: Path, name: str = "summarize", *, schema: type[BaseModel]) -> Prompt:
    """Read `<name>.system.md` and `<name>.user.md`, check their syntax, and hash them."""
    if not prompts_dir.is_dir():
        raise ConfigError(f"prompts dir not found: {prompts_dir} (set PAPERRADAR_PROMPTS_DIR)")
    texts = []
    for part in ("system", "user"):
        path = prompts_dir / f"{name}.{part}.md"
        if not path.is_file():
            raise ConfigError(
                f"prompt file not found: {path} (set PAPERRADAR_PROMPTS_DIR to a folder holding "
                f"{name}.system.md and {name}.user.md)"
            )
        text = path.read_text(encoding="utf-8")
        try:
            _compile(text)
        except TemplateError as error:
            raise ConfigError(f"invalid prompt template {path}: {error}") from error
        texts.append(text)
    system_template, user_template = texts
    contract = contract_of(schema)
    return Prompt(
        name=name,
        system_template=system_template,
        user_template=user_template,
        contract=contract,
        sha=prompt_sha(system_template, user_template, contract),
    )


def neutralise_fence(text: str) -> str:
    """Turn `<abstract>`/`</abstract>` tags inside a text into entities so they cannot fence."""
    return FENCE_TAG.sub(lambda tag: f"&lt;{tag.group(1)}abstract&gt;", text)


def render_prompt(
    prompt: Prompt,
    *,
    title: str,
    abstract: str,
    authors: Sequence[str],
    topics: Sequence[TopicBrief],
) -> tuple[str, str]:
    """Render the (system, user) messages; paper text only ever enters as variables."""
    # Both templates see every variable; the shipped system prompt uses only the contract, so it
    # is the same for every paper and providers can cache it as a prefix.
    variables: dict[str, object] = {
        "contract": prompt.contract,
        "title": neutralise_fence(title.strip()),
        "abstract": neutralise_fence(abstract.strip()),
        "authors": list(authors),
        "topics": list(topics),
    }
    try:
        system = _compile(prompt.system_template).render(variables)
        user = _compile(prompt.user_template).render(variables)
    except TemplateError as error:
        raise ConfigError(f"cannot render prompt {prompt.name!r}: {error}") from error
    return system, user
