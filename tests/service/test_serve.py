"""`paperradar serve` as a real process: what it answers on the network."""

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import Engine
from support.processes import child_env
from support.views import TOPICS, build_view

from paperradar.deliver.channels.email import render_email
from paperradar.profiles.profile import Profile
from paperradar.readers.subscriptions import find_subscription, subscribe
from paperradar.settings import EmailSettings, Settings
from paperradar.store.db import session_scope

READER = "reader@example.org"
SECRET = SecretStr("a-long-random-unsubscribe-secret-0123456789")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _is_active(engine: Engine) -> bool:
    with session_scope(engine) as session:
        found = find_subscription(session, channel="email", recipient=READER)
    assert found is not None
    return found.active


@pytest.mark.slow
def test_serve_answers_the_unsubscribe_link_of_a_real_newsletter(
    settings: Settings, engine: Engine, tmp_path: Path, bilingual_day: list[dict[str, Any]]
) -> None:
    with session_scope(engine) as session:
        profile = Profile(name="default", topics=dict(TOPICS))
        subscribe(session, channel="email", recipient=READER, profile=profile)
    port = _free_port()
    email = EmailSettings(
        host="127.0.0.1",
        sender="radar@example.org",
        unsubscribe_base_url=f"http://127.0.0.1:{port}/unsubscribe",
        unsubscribe_secret=SECRET,
        unsubscribe_port=port,
    )
    newsletter = render_email(build_view(bilingual_day[:1]), READER, settings=email)
    env = child_env(
        settings,
        PAPERRADAR_WEB__PORT=str(_free_port()),
        PAPERRADAR_EMAIL__HOST="127.0.0.1",
        PAPERRADAR_EMAIL__SENDER="radar@example.org",
        PAPERRADAR_EMAIL__UNSUBSCRIBE_BASE_URL=str(email.unsubscribe_base_url),
        PAPERRADAR_EMAIL__UNSUBSCRIBE_SECRET=SECRET.get_secret_value(),
        PAPERRADAR_EMAIL__UNSUBSCRIBE_PORT=str(port),
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "paperradar", "serve", "--role", "web"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    link = newsletter.headers["List-Unsubscribe"].strip("<>")
    response = None
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            try:
                # What a mail provider does with the two headers (RFC 8058 section 3.2).
                response = httpx.post(link, data={"List-Unsubscribe": "One-Click"})
                break
            except httpx.ConnectError:
                time.sleep(0.5)
        assert response is not None, "serve never answered the unsubscribe link"
        assert response.status_code == 200
        assert not _is_active(engine)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output[-3000:]
    assert SECRET.get_secret_value() not in output
