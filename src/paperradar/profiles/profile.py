"""Research profiles: `profiles/*.yaml` checked strictly into Profile and Topic values."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from paperradar.errors import ConfigError, describe_invalid

ARXIV_ID_PATTERN = r"^(\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?/\d{7})$"
TopicKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Language = Literal["zh", "en"]
BOTH_LANGUAGES: tuple[Language, ...] = ("zh", "en")

# Folders the web archive keeps for itself: a profile named like one would overwrite them.
SITE_FOLDERS = frozenset({"assets", "papers"})


class Strict(BaseModel):
    """A value read from a data file: unknown fields are typos and fail at load time."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SeedPaper(Strict):
    """One of the researcher's own papers; inline text lets the profile work offline."""

    id: Annotated[str, StringConstraints(pattern=ARXIV_ID_PATTERN)]
    title: str | None = None
    abstract: str | None = None
    # Topics this seed supports; when absent, scoring routes it by its text.
    topics: list[TopicKey] | None = None

    @property
    def has_text(self) -> bool:
        """Whether the seed carries its own title and abstract."""
        return bool(self.title and self.abstract)


class Topic(Strict):
    """One research interest: what it is, in words a user writes, and how much of it to show."""

    title: str
    title_zh: str | None = None
    description: str
    keywords: list[str] = Field(default_factory=list)
    min_percent: int = Field(default=40, ge=0, le=100)
    max_picks: int = Field(default=8, ge=1, le=100)


class FollowedName(Strict):
    """An author whose new papers are always picks; `pin`: one of their papers, when several
    people share the name (docs/people.md). In YAML a bare name is enough."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    pin: Annotated[str, StringConstraints(pattern=ARXIV_ID_PATTERN)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _bare_name(cls, data: object) -> object:
        return {"name": data} if isinstance(data, str) else data


class Profile(Strict):
    """A researcher's set of topics, seed papers and digest languages."""

    # A profile's name is its folder in the web archive.
    name: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,99}$")]
    languages: list[Language] = Field(default_factory=lambda: list(BOTH_LANGUAGES), min_length=1)
    topics: dict[TopicKey, Topic] = Field(min_length=1)
    seed_papers: list[SeedPaper] = Field(default_factory=list)
    authors: list[FollowedName] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _not_a_site_folder(cls, name: str) -> str:
        if name in SITE_FOLDERS:
            raise ValueError(
                f"{name!r} is the web archive's own {name}/ folder: rename the profile "
                "(its YAML `name:`)"
            )
        return name

    @model_validator(mode="after")
    def _seed_topics_exist(self) -> Profile:
        for seed in self.seed_papers:
            unknown = set(seed.topics or ()) - set(self.topics)
            if unknown:
                raise ValueError(f"seed {seed.id} names unknown topic(s): {sorted(unknown)}")
        return self

    @property
    def seed_ids(self) -> frozenset[str]:
        """The arXiv ids of the profile's own papers, never picked for it."""
        return frozenset(seed.id for seed in self.seed_papers)


def load_profile(path: Path) -> Profile:
    """Load one profile file; its name defaults to the file's stem."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"profile {path} is not UTF-8 text: save it as UTF-8") from None
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"cannot read profile {path}: {error}") from error
    if not isinstance(data, dict):
        raise ConfigError(f"profile {path} must be a mapping with `topics:`")
    data.setdefault("name", re.sub(r"[^a-z0-9_-]", "-", path.stem.lower()))
    try:
        return Profile.model_validate(data)
    except ValidationError as error:
        raise ConfigError(f"invalid profile {path}: {describe_invalid(error)}") from error


def load_profiles(profiles_dir: Path) -> tuple[Profile, ...]:
    """Load every `*.yaml` profile in a folder, sorted by name; names must be unique."""
    if not profiles_dir.is_dir():
        raise ConfigError(f"profiles dir not found: {profiles_dir} (set PAPERRADAR_PROFILES_DIR)")
    profiles = tuple(
        load_profile(path)
        for path in sorted([*profiles_dir.glob("*.yaml"), *profiles_dir.glob("*.yml")])
    )
    if not profiles:
        raise ConfigError(f"no profiles (*.yaml) in {profiles_dir}")
    names = [profile.name for profile in profiles]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigError(f"profile names used twice in {profiles_dir}: {duplicates}")
    return profiles
