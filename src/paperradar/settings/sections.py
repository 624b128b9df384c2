"""The settings sections of the pipeline: arXiv, embedding, LLM, re-rank, schedule and web."""

from __future__ import annotations

import ipaddress
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
    model_validator,
)

from paperradar.errors import ConfigError
from paperradar.settings.providers import JsonMode, Price, ProviderName, preset

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
        if self.api_delay_seconds < ARXIV_MIN_DELAY_SECONDS and not is_loopback(host):
            raise ValueError(
                f"arxiv.api_delay_seconds is {self.api_delay_seconds:g} but arXiv asks for at "
                f"most one API request every {ARXIV_MIN_DELAY_SECONDS:g} seconds: set "
                f"PAPERRADAR_ARXIV__API_DELAY_SECONDS to {ARXIV_MIN_DELAY_SECONDS:g} or more "
                f"(only a loopback api_url, such as a test server, may go lower)"
            )
        return self


def is_loopback(host: str | None) -> bool:
    """Whether a host name or address is this machine (plain http is allowed there)."""
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
    # torch: the model as sentence-transformers runs it. onnx-int8: an int8 ONNX copy of it on
    # the CPU (onnx_encoder.py), 1.7-2x as fast on two cores; its vectors are cached apart.
    backend: Literal["torch", "onnx-int8"] = "torch"
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
    timeout_seconds: float = Field(default=120.0, gt=0)
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


class RerankSettings(Section):
    """The optional LLM re-rank of each topic's best candidates (needs an LLM; off by default)."""

    # How many of each topic's best candidates the LLM judges a day, in one request (0: off).
    top: int = Field(default=0, ge=0, le=50)
    # The LLM's share of a judged candidate's final score; the rest is its cold score.
    weight: float = Field(default=0.5, ge=0, le=1)


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
