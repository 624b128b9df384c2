"""The settings sections of the delivery channels: WeCom, email and Telegram."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import (
    Field,
    SecretStr,
    model_validator,
)

from paperradar.settings.sections import Section, is_loopback

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
            secure = url.scheme == "https" or (url.scheme == "http" and is_loopback(url.hostname))
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
        loopback = is_loopback(self.host)
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
        secure = url.scheme == "https" or (url.scheme == "http" and is_loopback(url.hostname))
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
