"""The one settings object: init arguments > env PAPERRADAR_* > YAML file > defaults."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from paperradar.errors import ConfigError

DEFAULT_CONFIG_FILE = Path("paperradar.yaml")
ARXIV_MIN_DELAY_SECONDS = 3.0


class Section(BaseModel):
    """A settings section: unknown keys are typos, so they fail at load time."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ArxivSettings(Section):
    """Where announcements come from and how politely arXiv is asked."""

    categories: list[str] = Field(default_factory=lambda: ["cs.CL", "cs.LG", "cs.AI"], min_length=1)
    rss_url: str = "https://rss.arxiv.org/rss/{categories}"
    # A saved RSS, API Atom or JSONL (optionally gzipped) file read instead of the network.
    feed_file: Path | None = None
    timeout_seconds: float = Field(default=60.0, gt=0)
    rss_num_retries: int = Field(default=3, ge=0)
    # urllib3's exponential backoff factor between RSS retries; Retry-After wins when sent.
    rss_backoff_seconds: float = Field(default=2.0, ge=0)
    api_url: str = "https://export.arxiv.org/api/query"
    # arXiv asks for at most one request every 3 seconds; the `arxiv` client enforces it.
    api_delay_seconds: float = Field(default=3.0, ge=0)
    api_num_retries: int = Field(default=3, ge=0)
    api_page_size: int = Field(default=100, ge=1, le=2000)

    @model_validator(mode="after")
    def _polite_to_arxiv(self) -> ArxivSettings:
        host = urlsplit(self.api_url).hostname or ""
        if self.api_delay_seconds < ARXIV_MIN_DELAY_SECONDS and not _is_loopback(host):
            raise ValueError(
                f"arxiv.api_delay_seconds is {self.api_delay_seconds:g} but arXiv asks for at "
                f"most one API request every {ARXIV_MIN_DELAY_SECONDS:g} seconds: set "
                f"PAPERRADAR_ARXIV__API_DELAY_SECONDS to {ARXIV_MIN_DELAY_SECONDS:g} or more "
                f"(only a loopback api_url, such as a test server, may go lower)"
            )
        return self


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class EmbeddingSettings(Section):
    """The sentence-transformers model and where it runs."""

    model: str = "sentence-transformers/all-MiniLM-L6-v2"
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    batch_size: int = Field(default=32, ge=1)


class LLMSettings(Section):
    """Any OpenAI-compatible chat-completions endpoint; a provider is just these values."""

    base_url: str | None = None
    api_key: SecretStr | None = None
    model: str | None = None
    json_mode: Literal["json_schema", "json_object", "none"] = "json_object"
    temperature: float = 0.2
    timeout_seconds: float = 120.0
    max_retries: int = Field(default=3, ge=0)
    concurrency: int = Field(default=4, ge=1)
    # Provider-specific request fields sent as they are, e.g. {"enable_thinking": false} for Qwen3.
    extra_body: dict[str, JsonValue] | None = None

    @property
    def enabled(self) -> bool:
        """Whether summaries can be written: a model and an endpoint are configured."""
        return bool(self.model and self.base_url)

    @model_validator(mode="after")
    def _require_model_with_endpoint(self) -> LLMSettings:
        if self.base_url and not self.model:
            raise ValueError("llm.base_url is set but llm.model is not (set PAPERRADAR_LLM__MODEL)")
        return self


class Settings(BaseSettings):
    """Everything PaperRadar can be told; defaults run the whole pipeline with nothing set."""

    model_config = SettingsConfigDict(
        env_prefix="PAPERRADAR_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    data_dir: Path = Path("var")
    database_url: str | None = None
    prompts_dir: Path = Path("prompts")
    profiles_dir: Path = Path("profiles")
    migrations_dir: Path = Path("db")
    arxiv: ArxivSettings = ArxivSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    llm: LLMSettings = LLMSettings()

    @property
    def resolved_database_url(self) -> str:
        """The configured database, or a SQLite file under the data dir."""
        return self.database_url or f"sqlite:///{self.data_dir / 'paperradar.sqlite3'}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Read init arguments, then env, then the YAML file named by PAPERRADAR_CONFIG."""
        yaml_file = Path(os.environ.get("PAPERRADAR_CONFIG", DEFAULT_CONFIG_FILE))
        return (init_settings, env_settings, YamlConfigSettingsSource(settings_cls, yaml_file))


def load_settings(**overrides: object) -> Settings:
    """Load the settings once, at an entry point, turning mistakes into a ConfigError."""
    config_file = os.environ.get("PAPERRADAR_CONFIG")
    if config_file and not Path(config_file).is_file():
        raise ConfigError(f"config file not found: {config_file} (PAPERRADAR_CONFIG)")
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in issue['loc'])}: {issue['msg']}"
            for issue in error.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from error
