"""The one settings object: init arguments > env PAPERRADAR_* > YAML file > defaults."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
from paperradar.providers import JsonMode, Price, ProviderName, preset

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


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
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
    # Whether the model embeds non-English text (Chinese topics, searches) meaningfully;
    # None guesses from the model's name (e.g. "multilingual", "bge-m3", "LaBSE").
    multilingual: bool | None = None


class LLMSettings(Section):
    """Any OpenAI-compatible chat-completions endpoint; a provider is just these values."""

    # A preset (providers.yaml) that fills in base_url, model, json_mode and extra_body where
    # they are not set, and knows the price of its models' tokens.
    provider: ProviderName | None = None
    base_url: str | None = None
    api_key: SecretStr | None = None
    model: str | None = None
    json_mode: JsonMode = "json_object"
    temperature: float = 0.2
    timeout_seconds: float = 120.0
    # The openai client's own retries of 408/409/429/5xx and timeouts, honouring Retry-After.
    max_retries: int = Field(default=3, ge=0)
    # Papers summarised at once: requests in flight, and so the pace against rate limits.
    concurrency: int = Field(default=4, ge=1)
    # Provider-specific request fields sent as they are, e.g. {"enable_thinking": false} for Qwen3.
    extra_body: dict[str, JsonValue] | None = None
    # What a million tokens cost; when unset, the provider preset's price for the model.
    price_per_million_input: float | None = Field(default=None, ge=0)
    price_per_million_output: float | None = Field(default=None, ge=0)
    currency: str | None = None
    # When arXiv's metadata names no affiliation, read the first page of a pick's PDF and let
    # the model list the institutions printed there (one download and one short call each).
    affiliations_from_pdf: bool = False
    pdf_url: str = "https://arxiv.org/pdf/{arxiv_id}v{version}"

    @property
    def enabled(self) -> bool:
        """Whether summaries can be written: a model and an endpoint are configured."""
        return bool(self.model and self.base_url)

    @property
    def price(self) -> Price | None:
        """The price of the configured model's tokens, if set or known to its preset."""
        explicit = (self.price_per_million_input, self.price_per_million_output)
        if explicit[0] is not None and explicit[1] is not None:
            currency = self.currency or (preset(self.provider).currency if self.provider else "USD")
            return Price(explicit[0], explicit[1], currency)
        if self.provider and self.model:
            return preset(self.provider).price(self.model)
        return None

    @model_validator(mode="before")
    @classmethod
    def _fill_from_provider(cls, data: object) -> object:
        if not isinstance(data, dict) or not data.get("provider"):
            return data
        try:
            defaults = preset(str(data["provider"])).settings_defaults()
        except ConfigError as error:
            raise ValueError(str(error)) from error
        return {**defaults, **{key: value for key, value in data.items() if value is not None}}

    @model_validator(mode="after")
    def _require_model_with_endpoint(self) -> LLMSettings:
        if self.base_url and not self.model:
            raise ValueError("llm.base_url is set but llm.model is not (set PAPERRADAR_LLM__MODEL)")
        if (self.price_per_million_input is None) != (self.price_per_million_output is None):
            raise ValueError(
                "set both llm.price_per_million_input and llm.price_per_million_output, or neither"
            )
        return self


WECOM_MAX_MESSAGES_PER_MINUTE = 20
SMTP_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
MIN_SECRET_LENGTH = 32


class WeComSettings(Section):
    """WeCom group bots by name; each webhook URL carries its bot's key, so each is a secret."""

    # {group name: webhook URL}; a WeCom Subscription's recipient is the group's name.
    # Env: PAPERRADAR_WECOM__WEBHOOKS__LAB=https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…
    webhooks: dict[str, SecretStr] = Field(default_factory=dict)
    # WeCom allows each group bot 20 messages a minute and throttles it for minutes beyond.
    messages_per_minute: int = Field(default=WECOM_MAX_MESSAGES_PER_MINUTE, ge=1, le=20)
    timeout_seconds: float = Field(default=10.0, gt=0)

    @property
    def enabled(self) -> bool:
        """Whether digests go to WeCom groups."""
        return bool(self.webhooks)

    @model_validator(mode="after")
    def _webhooks_have_keys(self) -> WeComSettings:
        others = self.model_fields_set - {"webhooks"}
        if others and not self.enabled:
            raise ValueError(
                f"wecom.{sorted(others)[0]} is set but wecom.webhooks is empty (set "
                "PAPERRADAR_WECOM__WEBHOOKS__<GROUP> to the group bot's webhook address)"
            )
        for name, webhook in self.webhooks.items():
            url = urlsplit(webhook.get_secret_value())
            secure = url.scheme == "https" or (url.scheme == "http" and _is_loopback(url.hostname))
            if not secure or "key=" not in url.query:
                raise ValueError(
                    f"wecom.webhooks.{name} must be the group bot's address, "
                    "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=… (copy it from the "
                    f"bot's settings into PAPERRADAR_WECOM__WEBHOOKS__{name.upper()})"
                )
        return self


class EmailSettings(Section):
    """The SMTP server, the sender and the signed unsubscribe links of the email newsletter."""

    host: str | None = None
    # Defaults by security mode: 587 for starttls, 465 for ssl, 25 for none.
    port: int | None = Field(default=None, ge=1, le=65535)
    # Explicit, and never downgraded: starttls fails on a server that does not offer it.
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    # Sending a password in the clear is allowed only to a loopback relay, and only when asked.
    allow_login_without_tls: bool = False
    # A CA bundle for a relay whose certificate is signed by a private CA.
    tls_ca_file: Path | None = None
    sender: str | None = None
    # The public address of the unsubscribe endpoint, e.g. https://radar.example.org/unsubscribe.
    unsubscribe_base_url: str | None = None
    unsubscribe_secret: SecretStr | None = None
    # Where `paperradar serve` answers unsubscribe_base_url's path: behind the HTTPS proxy.
    unsubscribe_host: str = "127.0.0.1"
    unsubscribe_port: int = Field(default=8081, ge=0, le=65535)
    timeout_seconds: float = Field(default=30.0, gt=0)

    @property
    def enabled(self) -> bool:
        """Whether digests go out by email."""
        return self.host is not None

    @property
    def resolved_port(self) -> int:
        """The configured port, or the standard one for the security mode."""
        return self.port or SMTP_PORTS[self.security]

    @model_validator(mode="after")
    def _complete_and_safe(self) -> EmailSettings:
        if self.host is None:
            if self.sender or self.username or self.password or self.unsubscribe_base_url:
                raise ValueError(_fix("email is half-configured: email.host is not set", "HOST"))
            return self
        if not self.sender or "@" not in self.sender:
            raise ValueError(_fix("email.sender needs an address like radar@example.org", "SENDER"))
        if (self.username is None) != (self.password is None):
            raise ValueError(_fix("email.username and email.password go together", "PASSWORD"))
        self._check_plaintext_login()
        self._check_unsubscribe()
        if self.tls_ca_file and not self.tls_ca_file.is_file():
            missing = f"email.tls_ca_file not found: {self.tls_ca_file}"
            raise ValueError(_fix(missing, "TLS_CA_FILE"))
        return self

    def _check_plaintext_login(self) -> None:
        loopback = _is_loopback(self.host)
        if self.allow_login_without_tls and not loopback:
            raise ValueError(
                "email.allow_login_without_tls is only allowed for a loopback host; "
                "use email.security starttls or ssl for a remote server"
            )
        cleartext = self.password is not None and self.security == "none"
        if cleartext and not self.allow_login_without_tls:
            raise ValueError(
                "email.security is none, so the password would cross the network in the clear: "
                "set PAPERRADAR_EMAIL__SECURITY to starttls (port 587) or ssl (port 465); "
                "only a loopback relay may set email.allow_login_without_tls"
            )

    def _check_unsubscribe(self) -> None:
        if not self.unsubscribe_base_url:
            raise ValueError(
                _fix(
                    "email.unsubscribe_base_url is required: every newsletter carries a one-click "
                    "unsubscribe link (the public address of the unsubscribe endpoint)",
                    "UNSUBSCRIBE_BASE_URL",
                )
            )
        url = urlsplit(self.unsubscribe_base_url)
        secure = url.scheme == "https" or (url.scheme == "http" and _is_loopback(url.hostname))
        if not secure or url.query or url.fragment:
            raise ValueError(
                _fix(
                    "email.unsubscribe_base_url must be an https:// address with no query, "
                    "e.g. https://radar.example.org/unsubscribe (RFC 8058 requires HTTPS)",
                    "UNSUBSCRIBE_BASE_URL",
                )
            )
        secret = self.unsubscribe_secret.get_secret_value() if self.unsubscribe_secret else ""
        if len(secret) < MIN_SECRET_LENGTH or secret.lower().startswith("changethis"):
            raise ValueError(
                _fix(
                    f"email.unsubscribe_secret must be at least {MIN_SECRET_LENGTH} random "
                    'characters, e.g. python -c "import secrets; print(secrets.token_urlsafe(32))"',
                    "UNSUBSCRIBE_SECRET",
                )
            )


def _fix(problem: str, variable: str) -> str:
    return f"{problem} (set PAPERRADAR_EMAIL__{variable})"


class TelegramSettings(Section):
    """The Telegram bot: its token, the Bot API server, admins and the send rate."""

    bot_token: SecretStr | None = None
    # A self-hosted Bot API server is reached by changing this (the token is appended).
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    # Telegram user ids allowed to edit the shared profile and to broadcast.
    admin_user_ids: list[int] = Field(default_factory=list)
    # The shared profile chats subscribe to with /start (default: the first profile by name).
    profile: str | None = None
    timeout_seconds: float = Field(default=30.0, gt=0)
    # PTB's rate limiter: sends per second overall, per minute to one group, and how often it
    # retries a 429 (after the server's retry_after) before the part waits for the next run.
    rate_per_second: float = Field(default=30.0, gt=0)
    group_rate_per_minute: float = Field(default=20.0, gt=0)
    max_retries: int = Field(default=2, ge=0)
    # Telegram takes about one message a second in one chat: the outbox waits this long between
    # two parts to the same chat and sends to other chats meanwhile.
    chat_interval_seconds: float = Field(default=1.0, ge=0)

    @property
    def enabled(self) -> bool:
        """Whether digests can be pushed and the bot can run: a token is configured."""
        return self.bot_token is not None and bool(self.bot_token.get_secret_value())

    @model_validator(mode="after")
    def _token_with_other_settings(self) -> TelegramSettings:
        others = self.model_fields_set - {"bot_token"}
        if others and not self.enabled:
            raise ValueError(
                f"telegram.{sorted(others)[0]} is set but telegram.bot_token is not "
                "(set PAPERRADAR_TELEGRAM__BOT_TOKEN to the token from @BotFather)"
            )
        return self


class ScheduleSettings(Section):
    """When the service runs the pipeline, how it recovers from downtime, and default send times."""

    # arXiv announces Sunday to Thursday at 20:00 New York time; its RSS feed carries each
    # announcement from midnight, dated the next day. So the pipeline runs early Monday to
    # Friday, New York time, and processes that day.
    pipeline_cron: str = "30 1 * * mon-fri"
    timezone: str = "America/New_York"
    # How late a missed run may still start after downtime; the catch-up covers older days.
    misfire_grace_seconds: int = Field(default=6 * 3600, ge=1)
    # A failed day is tried again after this, doubling per failure up to `retry_max_minutes`.
    retry_minutes: int = Field(default=30, ge=1)
    retry_max_minutes: int = Field(default=6 * 60, ge=1)
    # Missed announcement days older than this are not caught up (the RSS feed has moved on
    # and the API dates papers by submission).
    catch_up_days: int = Field(default=3, ge=0)
    # The pipeline lock frees itself this long after its holder stops renewing it.
    lock_seconds: int = Field(default=120, ge=10)
    delivery_time: str = Field(default="09:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    delivery_timezone: str = "Asia/Shanghai"
    delivery_days: str = "mon-fri"
    # Deliveries one worker claims at once and sends round-robin. A round of 300 parts takes ten
    # seconds at Telegram's 30 messages/s, well over its one message/s per chat; a worker that
    # dies holds no more than this many until its lease (`lock_seconds`) expires.
    delivery_batch: int = Field(default=300, ge=1)
    # How often the outbox is checked for deliveries whose time has come (1 to 60 minutes).
    delivery_check_minutes: int = Field(default=1, ge=1, le=60)
    # Telegram chats told when a run fails; empty: the private chats of telegram.admin_user_ids.
    admin_chat_ids: list[str] = Field(default_factory=list)
    # On a day arXiv announces nothing: send a short "no arXiv announcement today", or nothing.
    notify_no_announcement: bool = True

    @model_validator(mode="after")
    def _valid_calendar(self) -> ScheduleSettings:
        for name in ("timezone", "delivery_timezone"):
            value = getattr(self, name)
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as error:
                raise ValueError(
                    f"schedule.{name} {value!r} is not an IANA time zone (e.g. Asia/Shanghai)"
                ) from error
        return self


class WebSettings(Section):
    """The static web archive: where it is written, what it is called, where it is served."""

    # Default: <data_dir>/web (see Settings.web_dir).
    out_dir: Path | None = None
    site_title: str = Field(default="PaperRadar", min_length=1)
    # The public address the site is deployed at (https://you.github.io/radar/): feeds then
    # carry absolute links; without it their links are relative to the feed's own address.
    base_url: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    feed_entries: int = Field(default=50, ge=1, le=1000)

    @model_validator(mode="after")
    def _base_url_is_a_folder(self) -> WebSettings:
        if self.base_url is None:
            return self
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                f"web.base_url {self.base_url!r} is not an http(s) address "
                "(set PAPERRADAR_WEB__BASE_URL to e.g. https://you.github.io/radar/)"
            )
        if not self.base_url.endswith("/"):
            object.__setattr__(self, "base_url", self.base_url + "/")
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
