"""A loopback SMTP server (aiosmtpd) that keeps what it receives; optional TLS, AUTH and refusals.

aiosmtpd cannot bind port 0 and report the port, so a free port is chosen first. A refused
login answers `AuthResult(success=False, handled=False)`: with `handled=True` and no reply
written, the client would wait for an answer until its timeout.
"""

from __future__ import annotations

import datetime
import email
import ipaddress
import socket
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def free_port() -> int:
    """Return a loopback TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Received:
    """One message as the server got it: the envelope and the parsed MIME message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes


@dataclass
class Inbox:
    """The aiosmtpd handler: stores each message; `refuse` maps an address to an RCPT reply."""

    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=default_policy)
        assert isinstance(message, EmailMessage)
        self.received.append(
            Received(str(envelope.mail_from), list(envelope.rcpt_tos), message, raw)
        )
        return "250 Message accepted for delivery"


class Credentials:
    """An aiosmtpd authenticator accepting one username and password."""

    def __init__(self, username: str, password: str) -> None:
        self.expected = (username.encode(), password.encode())
        self.attempts = 0

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        self.attempts += 1
        if isinstance(data, LoginPassword) and (data.login, data.password) == self.expected:
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for localhost and 127.0.0.1, and its key, as PEM files."""

    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        """A server-side TLS context presenting this certificate."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def make_certificate(directory: Path) -> Certificate:
    """Write a fresh self-signed certificate valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Certificate(cert_file, key_file)


class SMTPServer:
    """An aiosmtpd Controller on 127.0.0.1 and a chosen free port, in one of three TLS modes."""

    def __init__(
        self,
        *,
        tls: str = "none",
        certificate: Certificate | None = None,
        credentials: Credentials | None = None,
    ) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self.tls = tls
        context = certificate.server_context() if certificate else None
        # aiosmtpd counts only STARTTLS as TLS; on an implicit-TLS port AUTH is already private.
        options: dict[str, Any] = {"auth_require_tls": tls == "starttls"}
        if credentials is not None:
            options["authenticator"] = credentials
        if tls == "starttls":
            options["tls_context"] = context
        self.controller = Controller(
            self.inbox,
            hostname="127.0.0.1",
            port=self.port,
            ssl_context=context if tls == "ssl" else None,
            **options,
        )

    @property
    def received(self) -> list[Received]:
        """The messages received so far."""
        return self.inbox.received

    def __enter__(self) -> SMTPServer:
        self.controller.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.controller.stop()
