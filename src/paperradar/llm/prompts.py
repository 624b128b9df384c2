"""Prompts as data: `prompts/<name>.{system,user}.md` and the glossary, hashed together."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml
from jinja2 import Environment, Template, TemplateError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from paperradar.errors import ConfigError, describe_invalid
from paperradar.jinja import build_environment

GLOSSARY_FILE = "glossary.yaml"

# An abstract may carry its own <abstract> or </abstract> (by accident or as an injection);
# either would let text escape the fence it is placed in, so it is shown as an entity instead.
FENCE_TAGS = {
    name: re.compile(rf"<\s*(/?)\s*{name}\b[^>]*>", re.IGNORECASE)
    for name in ("abstract", "page", "paper")
}


@dataclass(frozen=True)
class TopicBrief:
    """A topic as the LLM sees it: its key (used in the reply), title and description."""

    key: str
    title: str
    description: str


class GlossaryTerm(BaseModel):
    """One term of the field: English, its standard Chinese, and its abbreviation if any."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    en: str = Field(min_length=1)
    zh: str = Field(min_length=1)
    abbr: str | None = None


class Glossary(BaseModel):
    """The user-extendable glossary (`prompts/glossary.yaml`) the system prompt shows."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    terms: list[GlossaryTerm] = Field(default_factory=list)
    acronyms: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _each_term_once(self) -> Glossary:
        seen = [term.en.lower() for term in self.terms]
        twice = sorted({term for term in seen if seen.count(term) > 1})
        if twice:
            raise ValueError(f"terms listed twice: {twice}")
        return self

    @property
    def known_terms(self) -> tuple[str, ...]:
        """Abbreviations a summary may use without the abstract writing them."""
        return (*self.acronyms, *(term.abbr for term in self.terms if term.abbr))


@dataclass(frozen=True)
class Prompt:
    """Both templates, the glossary and contract they show, and the hash of all of them."""

    name: str
    system_template: str
    user_template: str
    contract: str
    sha: str
    glossary: Glossary = field(default_factory=Glossary)


@cache
def _environment() -> Environment:
    # Prompts are plain text, not HTML: nothing is escaped, and a missing variable is an error.
    return build_environment(None, autoescape=False, keep_trailing_newline=True)


@cache
def _compile(source: str) -> Template:
    return _environment().from_string(source)


def _without_titles(node: object) -> object:
    """Drop the `title` keys pydantic derives from field names: they repeat the names."""
    if isinstance(node, list):
        return [_without_titles(item) for item in node]
    if not isinstance(node, dict):
        return node
    # A property named "title" maps to a schema (a dict), so only string titles are dropped.
    return {
        key: _without_titles(value)
        for key, value in node.items()
        if not (key == "title" and isinstance(value, str))
    }


def contract_of(schema: type[BaseModel]) -> str:
    """Return an output contract's JSON schema as the prompt shows it: on one line, untitled.

    Every token of the system prompt is paid for on every paper, so the schema is shown
    without indentation and without the titles pydantic derives from the field names.
    """
    return json.dumps(_without_titles(schema.model_json_schema()), ensure_ascii=False)


def prompt_sha(
    system_template: str, user_template: str, contract: str, glossary: Glossary | None = None
) -> str:
    """Hash the templates, contract and glossary: changing any invalidates cached replies."""
    digest = hashlib.sha256()
    terms = (glossary or Glossary()).model_dump_json()
    for part in (system_template, user_template, contract, terms):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def load_glossary(path: Path) -> Glossary:
    """Read and check the glossary file."""
    if not path.is_file():
        raise ConfigError(
            f"glossary not found: {path} (PAPERRADAR_PROMPTS_DIR must hold {GLOSSARY_FILE}; "
            "an empty one is `terms: []`)"
        )
    try:
        return Glossary.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    except yaml.YAMLError as error:
        raise ConfigError(f"invalid glossary {path}: {error}") from error
    except ValidationError as error:
        raise ConfigError(f"invalid glossary {path}: {describe_invalid(error)}") from error


def load_prompt(prompts_dir: Path, name: str = "summarize", *, schema: type[BaseModel]) -> Prompt:
    """Read `<name>.system.md`, `<name>.user.md` and the glossary, check them, and hash them."""
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
    glossary = load_glossary(prompts_dir / GLOSSARY_FILE)
    return Prompt(
        name=name,
        system_template=system_template,
        user_template=user_template,
        contract=contract,
        sha=prompt_sha(system_template, user_template, contract, glossary),
        glossary=glossary,
    )


def neutralise_fence(text: str, tag: str = "abstract") -> str:
    """Turn `<tag>`/`</tag>` inside a text into entities so it cannot close the fence it is in."""
    return FENCE_TAGS[tag].sub(lambda found: f"&lt;{found.group(1)}{tag}&gt;", text)


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
        "title": neutralise_fence(title.strip()),
        "abstract": neutralise_fence(abstract.strip()),
        "authors": list(authors),
        "topics": list(topics),
    }
    return render_messages(prompt, variables)


def render_messages(prompt: Prompt, variables: dict[str, object]) -> tuple[str, str]:
    """Render the (system, user) messages of any prompt; contract and glossary are always there."""
    values = {"contract": prompt.contract, "glossary": prompt.glossary, **variables}
    try:
        system = _compile(prompt.system_template).render(values)
        user = _compile(prompt.user_template).render(values)
    except TemplateError as error:
        raise ConfigError(f"cannot render prompt {prompt.name!r}: {error}") from error
    return system, user
