"""The one settings object: init arguments > env PAPERRADAR_* > YAML file > defaults."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from paperradar.errors import ConfigError
from paperradar.settings.channels import (
    MIN_SECRET_LENGTH,
    SMTP_PORTS,
    WECOM_MAX_MESSAGES_PER_MINUTE,
    EmailSettings,
    TelegramSettings,
    WeComSettings,
)
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
    rerank: RerankSettings = RerankSettings()
    web: WebSettings = WebSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    telegram: TelegramSettings = TelegramSettings()
    wecom: WeComSettings = WeComSettings()
    email: EmailSettings = EmailSettings()

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
