"""Hostile settings, profiles and databases: each is one line of error and exit status 1."""

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from paperradar.cli.main import main

DB_PASSWORD = "pw-Distinctive-7391"
Setup = Callable[[Path], dict[str, str]]


def _env(**values: str) -> Setup:
    return lambda _folder: values


def _config(text: str | bytes) -> Setup:
    def write(folder: Path) -> dict[str, str]:
        path = folder / "paperradar.yaml"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return {"PAPERRADAR_CONFIG": str(path)}

    return write


def _profile(text: str | bytes, name: str = "mine.yaml") -> Setup:
    def write(folder: Path) -> dict[str, str]:
        profiles = folder / "profiles"
        profiles.mkdir()
        path = profiles / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return {"PAPERRADAR_PROFILES_DIR": str(profiles)}

    return write


def _data_dir_is_a_file(folder: Path) -> dict[str, str]:
    (folder / "taken").write_text("not a folder")
    return {"PAPERRADAR_DATA_DIR": str(folder / "taken")}


def _read_only_database(folder: Path) -> dict[str, str]:
    # Root ignores file modes: SQLite's read-only open mode refuses writes for everyone.
    database = folder / "ro.sqlite3"
    return {"PAPERRADAR_DATABASE_URL": f"sqlite:///file:{database}?mode=ro&uri=true"}


TOPIC = "topics: {x: {title: X, description: a topic}}\n"
CASES: dict[str, tuple[list[str], Setup, str]] = {
    # settings from the environment
    "list as a bare word": (["status"], _env(PAPERRADAR_ARXIV__CATEGORIES="cs.CL"), "JSON"),
    "mapping as a bare word": (["status"], _env(PAPERRADAR_WECOM__WEBHOOKS="lab"), "JSON"),
    "number with letters": (["status"], _env(PAPERRADAR_LLM__CONCURRENCY="four"), "concurrency"),
    "negative timeout": (["status"], _env(PAPERRADAR_LLM__TIMEOUT_SECONDS="-1"), "timeout"),
    "unknown provider": (["status"], _env(PAPERRADAR_LLM__PROVIDER="nope"), "provider"),
    "unknown time zone": (
        ["status"],
        _env(PAPERRADAR_SCHEDULE__TIMEZONE="Mars/Olympus"),
        "timezone",
    ),
    "hour 25": (["status"], _env(PAPERRADAR_SCHEDULE__DELIVERY_TIME="25:00"), "delivery_time"),
    "port out of range": (["status"], _env(PAPERRADAR_WEB__PORT="70000"), "port"),
    "unknown embedding backend": (
        ["status"],
        _env(PAPERRADAR_EMBEDDING__BACKEND="tpu"),
        "backend",
    ),
    "email without a sender": (["status"], _env(PAPERRADAR_EMAIL__HOST="127.0.0.1"), "email"),
    # the YAML file
    "malformed YAML": (["status"], _config("arxiv: [unclosed\n"), "not valid YAML"),
    "YAML that is a list": (["status"], _config("- data_dir\n- var\n"), "mapping"),
    "YAML that is a word": (["status"], _config("hello\n"), "mapping"),
    "YAML with an unknown key": (["status"], _config("colour: blue\n"), "colour"),
    "YAML of the wrong type": (["status"], _config("llm: [1, 2]\n"), "llm"),
    "YAML not UTF-8": (["status"], _config(b"data_dir: \xff\xfe\n"), "config file"),
    "config file missing": (["status"], _env(PAPERRADAR_CONFIG="/nowhere/radar.yaml"), "not found"),
    # the database
    "not a URL": (["status"], _env(PAPERRADAR_DATABASE_URL="not a url"), "database URL"),
    "port too large": (
        ["status"],
        _env(PAPERRADAR_DATABASE_URL="postgresql+psycopg://u@127.0.0.1:99999/x"),
        "out of range",
    ),
    "port not a number": (
        ["status"],
        _env(PAPERRADAR_DATABASE_URL="postgresql+psycopg://u@127.0.0.1:abc/x"),
        "database",
    ),
    "MySQL": (["status"], _env(PAPERRADAR_DATABASE_URL="mysql://u@127.0.0.1/x"), "SQLite"),
    "another PostgreSQL driver": (
        ["status"],
        _env(PAPERRADAR_DATABASE_URL="postgresql+asyncpg://u@127.0.0.1/x"),
        "psycopg",
    ),
    "nobody listens": (
        ["status"],
        _env(PAPERRADAR_DATABASE_URL=f"postgresql+psycopg://u:{DB_PASSWORD}@127.0.0.1:9/x"),
        "cannot use the database",
    ),
    "data dir is a file": (["status"], _data_dir_is_a_file, "not a folder"),
    "read-only database": (["status"], _read_only_database, "cannot use the database"),
    "migrate-to a dead host": (
        ["db", "migrate-to", f"postgresql+psycopg://u:{DB_PASSWORD}@127.0.0.1:9/x"],
        _env(),
        "cannot use the database",
    ),
    "migrate-to not a URL": (["db", "migrate-to", "elsewhere"], _env(), "database URL"),
    # subscribers
    "CRLF in an email recipient": (
        ["subscribers", "add", "--channel", "email", "a@example.org\r\nBcc: evil@example.org"],
        _env(),
        "not a valid email recipient",
    ),
    "email without a domain": (
        ["subscribers", "add", "--channel", "email", "reader"],
        _env(),
        "not a valid email recipient",
    ),
    "telegram chat that is a word": (
        ["subscribers", "add", "--channel", "telegram", "my chat"],
        _env(),
        "not a valid telegram recipient",
    ),
    "wecom group with markup": (
        ["subscribers", "add", "--channel", "wecom", "<b>lab</b>"],
        _env(),
        "not a valid wecom recipient",
    ),
    "unknown channel": (
        ["subscribers", "add", "--channel", "fax", "123"],
        _env(),
        "unknown channel",
    ),
    # profiles
    "profile not UTF-8": (["profiles", "check"], _profile(b"topics: \xff\n"), "UTF-8"),
    "profile that is a list": (["profiles", "check"], _profile("- a\n- b\n"), "mapping"),
    "profile with an unknown field": (
        ["profiles", "check"],
        _profile(TOPIC + "colour: blue\n"),
        "colour",
    ),
    "profile named like a site folder": (
        ["profiles", "check"],
        _profile("name: assets\n" + TOPIC),
        "rename the profile",
    ),
    "profile without topics": (["profiles", "check"], _profile("name: empty\n"), "topics"),
    "profiles folder missing": (
        ["profiles", "check"],
        _env(PAPERRADAR_PROFILES_DIR="/nowhere/profiles"),
        "profiles",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_bad_setting_is_one_line_of_error_and_exit_1(case: str, tmp_path: Path) -> None:
    args, setup, mentions = CASES[case]
    env = {"PAPERRADAR_DATA_DIR": str(tmp_path / "var"), "PAPERRADAR_CONFIG": "", **setup(tmp_path)}

    result = CliRunner().invoke(main, args, env=env)

    lines = result.output.strip().splitlines()
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert mentions.lower() in lines[0].lower()
    assert DB_PASSWORD not in result.output


def test_a_feed_file_without_the_requested_day_is_an_error_not_an_empty_day(
    tmp_path: Path,
) -> None:
    feed = tmp_path / "one-day.jsonl"
    feed.write_text(
        '{"id": "2510.00001", "title": "A paper", "abstract": "An abstract.", '
        '"authors": ["A. Author"], "categories": ["cs.CL"], "date": "2025-10-16"}\n',
        encoding="utf-8",
    )
    env = {"PAPERRADAR_DATA_DIR": str(tmp_path / "var"), "PAPERRADAR_CONFIG": ""}

    result = CliRunner().invoke(
        main, ["run", "--feed", str(feed), "--day", "2025-10-15", "--dry-run"], env=env
    )

    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: {feed} holds no announcement of 2025-10-15: it holds 2025-10-16 to 2025-10-16 "
        "(pass one of its days with --day, or leave --day out for its latest)"
    ]
    assert not (tmp_path / "var").exists()
