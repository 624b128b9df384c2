"""Provider presets (`providers.yaml`, shipped with the package) and the price of tokens."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, JsonValue, TypeAdapter, ValidationError

from paperradar.errors import ConfigError, describe_invalid

ProviderName = Literal["openai", "deepseek", "qwen", "ollama", "vllm"]
JsonMode = Literal["json_schema", "json_object", "none"]
PRESETS_FILE = "providers.yaml"
PRICE_HINT = (
    "set PAPERRADAR_LLM__PRICE_PER_MILLION_INPUT and PAPERRADAR_LLM__PRICE_PER_MILLION_OUTPUT"
)
PER_MILLION = 1_000_000


class Preset(BaseModel):
    """What one provider needs: endpoint, default model, JSON mode, extra fields, prices."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str
    model: str
    json_mode: JsonMode
    extra_body: dict[str, JsonValue] | None = None
    currency: str = "USD"
    # Per million tokens: (input, output), by model name.
    prices: dict[str, tuple[float, float]] = Field(default_factory=dict)
    # A local server: every model costs nothing.
    free: bool = False

    def settings_defaults(self) -> dict[str, object]:
        """The LLM settings this preset fills in where the user set nothing."""
        return self.model_dump(include={"base_url", "model", "json_mode", "extra_body"})

    def price(self, model: str) -> Price | None:
        """The price of a model's tokens, if this preset knows it."""
        if self.free:
            return Price(0.0, 0.0, self.currency)
        known = self.prices.get(model)
        return Price(known[0], known[1], self.currency) if known else None


@dataclass(frozen=True)
class Price:
    """What a million prompt and completion tokens cost, in a currency."""

    input_per_million: float
    output_per_million: float
    currency: str = "USD"

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """Return the cost of these tokens."""
        return (
            prompt_tokens * self.input_per_million + completion_tokens * self.output_per_million
        ) / PER_MILLION


@cache
def load_presets() -> dict[str, Preset]:
    """Read and check the presets shipped with the package (read once, on first use)."""
    text = resources.files("paperradar.settings").joinpath(PRESETS_FILE).read_text(encoding="utf-8")
    try:
        return TypeAdapter(dict[str, Preset]).validate_python(yaml.safe_load(text))
    except yaml.YAMLError as error:
        raise ConfigError(f"invalid provider presets {PRESETS_FILE}: {error}") from error
    except ValidationError as error:
        raise ConfigError(
            f"invalid provider presets {PRESETS_FILE}: {describe_invalid(error)}"
        ) from error


def preset(name: str) -> Preset:
    """Return one provider's preset."""
    presets = load_presets()
    if name not in presets:
        raise ConfigError(f"unknown LLM provider {name!r} (one of: {', '.join(presets)})")
    return presets[name]
