"""Email newsletter channel: text + HTML from templates over SMTP with an explicit TLS mode."""

from __future__ import annotations

import hashlib
import logging
import smtplib
import ssl
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Self

from paperradar.compose.digests import DigestView
from paperradar.compose.reading import Reading
from paperradar.compose.rendering import render_template
from paperradar.deliver.channels.protocol import Message
from paperradar.errors import ChannelError, ConfigError, PaperRadarError
from paperradar.readers.unsubscribe import Scope, unsubscribe_url
from paperradar.settings import EmailSettings, Settings

logger = logging.getLogger(__name__)

ONE_CLICK_POST = "List-Unsubscribe=One-Click"
SMTP_TRANSIENT = range(400, 500)


def sender_domain(sender: str) -> str:
    """Return the domain of the sender's address (Message-IDs and List-Ids live under it)."""
    return parseaddr(sender)[1].rpartition("@")[2].lower()


def message_id(view: DigestView, recipient: str, *, part: int, domain: str) -> str:
    """Return a Message-ID fixed by (profile, day, part, recipient), so clients fold a repeat."""
    key = f"{view.profile.name}\n{view.day.isoformat()}\n{part}\n{recipient.lower()}"
    return f"<paperradar.{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}@{domain}>"


def subject_line(view: DigestView) -> str:
    """Return the subject in the reader's language: the day, the pick count and the top pick."""
    return Reading.of(view).subject()


def render_email(view: DigestView, recipient: str, *, settings: EmailSettings) -> Message:
    """Render one recipient's digest as a text + HTML newsletter with List-Unsubscribe headers."""
    sender, base_url, secret = (
        settings.sender,
        settings.unsubscribe_base_url,
        settings.unsubscribe_secret,
    )
    if sender is None or base_url is None or secret is None:
        raise ConfigError("email.sender, unsubscribe_base_url and unsubscribe_secret must be set")
    link = unsubscribe_url(base_url, secret, Scope(channel="email", recipient=recipient))
    extra = {"recipient": recipient, "unsubscribe_url": link}
    text = render_template("email.txt.j2", view, **extra)
    html = render_template("email.html.j2", view, **extra)
    domain = sender_domain(sender)
    headers = {
        "Message-ID": message_id(view, recipient, part=1, domain=domain),
        "List-Id": f"PaperRadar {view.profile.name} <{view.profile.name}.paperradar.{domain}>",
        "List-Unsubscribe": f"<{link}>",
        "List-Unsubscribe-Post": ONE_CLICK_POST,
    }
    return Message(
        text=text, format="email", subject=subject_line(view), html=html, headers=headers
    )


def _address(recipient: str) -> Address:
    """Parse a recipient as exactly one plain address (no name, no list, no line breaks)."""
    try:
        address = Address(addr_spec=recipient)
    except (ValueError, HeaderParseError) as error:
        raise ChannelError(f"not an email address: {recipient!r}", retryable=False) from error
    if not address.username or not address.domain:
        raise ChannelError(f"not an email address: {recipient!r}", retryable=False)
    return address


def compose_mail(message: Message, recipient: str, *, sender: str) -> EmailMessage:
    """Build the MIME message: multipart/alternative with the text part first, then HTML."""
    mail = EmailMessage()
    mail["Subject"] = message.subject or "PaperRadar"
    mail["From"] = sender
    mail["To"] = _address(recipient)
    mail["Date"] = formatdate(usegmt=True)
    for name, value in message.headers.items():
        mail[name] = value
    mail.set_content(message.text)
    if message.html is not None:
        mail.add_alternative(message.html, subtype="html")
    return mail


def _reply_text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", errors="replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split())[:200]


def _smtp_error(error: smtplib.SMTPException, settings: EmailSettings) -> PaperRadarError:
    """Turn an SMTP failure into a ConfigError (fix the settings) or a ChannelError."""
    where = f"{settings.host}:{settings.resolved_port}"
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return ConfigError(
            f"SMTP server {where} refused the login for {settings.username!r} "
            f"({error.smtp_code} {_reply_text(error.smtp_error)}): check "
            "PAPERRADAR_EMAIL__USERNAME and PAPERRADAR_EMAIL__PASSWORD"
        )
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return ConfigError(
            f"SMTP server {where}: {error} (email.username is set, so PaperRadar logs in: "
            "check PAPERRADAR_EMAIL__HOST and PAPERRADAR_EMAIL__SECURITY)"
        )
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(error.recipients.values()))
        return ChannelError(
            f"SMTP server {where} refused the recipient ({code} {_reply_text(reply)})",
            retryable=code in SMTP_TRANSIENT,
        )
    if isinstance(error, smtplib.SMTPResponseException):
        return ChannelError(
            f"SMTP server {where} answered {error.smtp_code} {_reply_text(error.smtp_error)}",
            retryable=error.smtp_code in SMTP_TRANSIENT,
        )
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return ChannelError(f"SMTP server {where} hung up ({error})", retryable=True)
    return ChannelError(f"SMTP with {where} failed: {error}", retryable=False)


def _close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        # The message was accepted or an error is already on its way: only the socket is left.
        smtp.close()


class EmailChannel:
    """Sends each recipient one newsletter per digest; the recipient is an email address."""

    name = "email"
    part_interval = 0.0

    def __init__(self, settings: EmailSettings) -> None:
        # EmailSettings refuses a half-configured section; this only tells mypy.
        if settings.host is None or settings.sender is None:
            raise ConfigError("email.host and email.sender must be set (PAPERRADAR_EMAIL__HOST)")
        self.settings = settings
        self._host = settings.host
        self._sender = settings.sender

    @classmethod
    def from_settings(cls, settings: Settings) -> Self | None:
        """Build the channel when `email.host` is set (the section checks the rest)."""
        if not settings.email.enabled:
            return None
        return cls(settings.email)

    def render(self, digest: DigestView, recipient: str) -> list[Message]:
        """Render the recipient's newsletter: one message, text and HTML."""
        return [render_email(digest, recipient, settings=self.settings)]

    def _tls_context(self) -> ssl.SSLContext:
        cafile = str(self.settings.tls_ca_file) if self.settings.tls_ca_file else None
        return ssl.create_default_context(cafile=cafile)

    def _open(self) -> smtplib.SMTP:
        """Connect in the configured mode; no STARTTLS on offer raises, never downgrades."""
        port, timeout = self.settings.resolved_port, self.settings.timeout_seconds
        if self.settings.security == "ssl":
            return smtplib.SMTP_SSL(self._host, port, timeout=timeout, context=self._tls_context())
        smtp = smtplib.SMTP(self._host, port, timeout=timeout)
        if self.settings.security == "starttls":
            try:
                smtp.starttls(context=self._tls_context())
            except smtplib.SMTPNotSupportedError as error:
                smtp.close()
                raise ConfigError(
                    f"SMTP server {self._host}:{port} does not offer STARTTLS, and PaperRadar "
                    "never falls back to plain text: use PAPERRADAR_EMAIL__SECURITY=ssl (port "
                    "465) if the server speaks TLS from the start"
                ) from error
            except BaseException:
                smtp.close()
                raise
        return smtp

    def _transmit(self, mail: EmailMessage, recipient: str) -> None:
        smtp = self._open()
        try:
            if self.settings.username and self.settings.password:
                smtp.login(self.settings.username, self.settings.password.get_secret_value())
            smtp.send_message(mail, to_addrs=[recipient])
        finally:
            _close(smtp)

    def send(self, message: Message, recipient: str) -> str:
        """Send one newsletter in one SMTP session; return its Message-ID."""
        mail = compose_mail(message, recipient, sender=self._sender)
        where = f"{self._host}:{self.settings.resolved_port}"
        try:
            self._transmit(mail, recipient)
        except smtplib.SMTPException as error:
            raise _smtp_error(error, self.settings) from error
        except ssl.SSLCertVerificationError as error:
            raise ConfigError(
                f"the certificate of {where} is not trusted ({error.verify_message}): set "
                "PAPERRADAR_EMAIL__TLS_CA_FILE to its CA bundle, or email.host to its name"
            ) from error
        except ssl.SSLError as error:
            raise ConfigError(
                f"TLS with {where} failed ({error.reason}): is email.security right for this "
                "port? ssl is usually 465, starttls 587"
            ) from error
        except OSError as error:
            raise ChannelError(
                f"SMTP server {where} unreachable ({error})", retryable=True
            ) from error
        logger.debug("email: sent %s", message.headers.get("Message-ID"))
        return str(mail["Message-ID"] or "")

    def close(self) -> None:
        """Nothing to release: each send opens and closes its own SMTP session."""
