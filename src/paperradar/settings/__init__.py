"""The one settings object: init arguments > env PAPERRADAR_* > YAML file > defaults."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import yaml
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    YamlConfigSettingsSource,
)

from paperradar.errors import ConfigError, describe_invalid
from paperradar.settings.channels import (
    MIN_SECRET_LENGTH,
    SMTP_PORTS,
    WECOM_MAX_MESSAGES_PER_MINUTE,
    EmailSettings,
    TelegramSettings,
    WeComSettings,
)
from paperradar.settings.database import check_database_url, database_password
from paperradar.settings.redaction import register_secrets
from paperradar.settings.sections import (
    ARXIV_MIN_DELAY_SECONDS,
    ArxivSettings,
    EmbeddingSettings,
    LLMSettings,
    RerankSettings,
    ScheduleSettings,
    Section,
    WebSettings,
)

__all__ = [
    "ARXIV_MIN_DELAY_SECONDS",
    "MIN_SECRET_LENGTH",
    "SMTP_PORTS",
    "WECOM_MAX_MESSAGES_PER_MINUTE",
    "ArxivSettings",
    "EmailSettings",
    "EmbeddingSettings",
    "LLMSettings",
    "RerankSettings",
    "ScheduleSettings",
    "Section",
    "Settings",
    "TelegramSettings",
    "WeComSettings",
    "WebSettings",
    "load_settings",
]

DEFAULT_CONFIG_FILE = Path("paperradar.yaml")


def data_folder(local: str, packaged: str, *, marker: str | None = None) -> Path:
    """Return the working directory's `local` folder when it has one (holding `marker`), else
    the copy shipped inside the package: an installed PaperRadar runs from any folder."""
    folder = Path(local)
    if (folder / marker).is_file() if marker else folder.is_dir():
        return folder
    return Path(str(resources.files("paperradar") / "data" / packaged))


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
    prompts_dir: Path = Field(default_factory=lambda: data_folder("prompts", "prompts"))
    profiles_dir: Path = Field(default_factory=lambda: data_folder("profiles", "profiles"))
    migrations_dir: Path = Field(
        default_factory=lambda: data_folder("db", "migrations", marker="env.py")
    )
    arxiv: ArxivSettings = ArxivSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    llm: LLMSettings = LLMSettings()
    rerank: RerankSettings = RerankSettings()
    web: WebSettings = WebSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    telegram: TelegramSettings = TelegramSettings()
    wecom: WeComSettings = WeComSettings()
    email: EmailSettings = EmailSettings()

    @field_validator("database_url")
    @classmethod
    def _usable_database(cls, value: str | None) -> str | None:
        return None if value is None else check_database_url(value)

    @field_validator("data_dir")
    @classmethod
    def _data_dir_is_a_folder(cls, value: Path) -> Path:
        if value.exists() and not value.is_dir():
            raise ValueError(f"{value} is a file, not a folder: choose a folder for data_dir")
        return value

    @property
    def resolved_database_url(self) -> str:
        """The configured database, or a SQLite file under the data dir."""
        return self.database_url or f"sqlite:///{self.data_dir / 'paperradar.sqlite3'}"

    @property
    def web_dir(self) -> Path:
        """Where the web archive is written: web.out_dir, or `web` under the data dir."""
        return self.web.out_dir or self.data_dir / "web"

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


def _check_config_file() -> None:
    """Refuse a config file that is missing, not YAML, or not a mapping of settings."""
    named = os.environ.get("PAPERRADAR_CONFIG")
    path = Path(named) if named else DEFAULT_CONFIG_FILE
    if named and not path.is_file():
        raise ConfigError(f"config file not found: {path} (PAPERRADAR_CONFIG)")
    if not path.is_file():
        return
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read config file {path}: {error}") from error
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise ConfigError(f"config file {path} is not valid YAML{line}") from error
    if data is not None and not isinstance(data, dict):
        raise ConfigError(
            f"config file {path} must be a mapping of settings (e.g. `data_dir: var`), "
            f"not a {type(data).__name__}"
        )


def load_settings(**overrides: object) -> Settings:
    """Load the settings once, at an entry point, turning mistakes into a ConfigError.

    Every secret they hold is registered for redaction (settings.redaction).
    """
    _check_config_file()
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise ConfigError(f"invalid settings: {describe_invalid(error)}") from error
    except SettingsError as error:
        # The message names the field; a list or mapping given as a bare word is the usual cause.
        raise ConfigError(
            f"invalid settings: {error}; lists and mappings in environment variables are JSON, "
            'e.g. PAPERRADAR_ARXIV__CATEGORIES=\'["cs.CL", "cs.LG"]\''
        ) from error
    register_secrets(settings, database_password(settings.database_url))
    return settings
