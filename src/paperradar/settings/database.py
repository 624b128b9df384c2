"""The database URL setting: which databases PaperRadar runs on, checked before any connection."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

EXAMPLES = "e.g. sqlite:///var/paperradar.sqlite3 or postgresql+psycopg://user@host:5432/paperradar"
POSTGRESQL_DRIVERS = ("postgresql", "postgresql+psycopg")


def _parse(value: str) -> URL:
    try:
        return make_url(value)
    except ArgumentError:
        raise ValueError(f"not a database URL; {EXAMPLES}") from None


def check_database_url(value: str) -> str:
    """Return the URL when PaperRadar can use it; else raise ValueError saying what to write."""
    url = _parse(value)
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ValueError(f"{backend} is not supported: PaperRadar runs on SQLite or PostgreSQL")
    if backend == "postgresql" and url.drivername not in POSTGRESQL_DRIVERS:
        raise ValueError(f"use the psycopg driver: postgresql+psycopg://… ({EXAMPLES})")
    try:
        port = url.port
    except ValueError:
        raise ValueError("the port is not a number") from None
    if port is not None and not 1 <= port <= 65535:
        raise ValueError(f"port {port} is out of range (1-65535)")
    return value


def database_password(value: str | None) -> str | None:
    """Return the password inside a database URL, if any (it is a secret to redact)."""
    if value is None:
        return None
    try:
        return make_url(value).password
    except ArgumentError:
        return None


def display_url(value: str) -> str:
    """Return the URL with its password hidden, fit to show in a message."""
    try:
        return make_url(value).render_as_string(hide_password=True)
    except ArgumentError:
        return "(an invalid database URL)"
