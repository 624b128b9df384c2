from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import Engine
from support.views import TOPICS, build_view

from paperradar.deliver.channels.email import render_email
from paperradar.profiles.profile import Profile
from paperradar.readers.subscriptions import find_subscription, subscribe
from paperradar.readers.unsubscribe import (
    Scope,
    is_one_click,
    sign_token,
    unsubscribe_url,
    verify_token,
)
from paperradar.settings import EmailSettings
from paperradar.store.db import session_scope
from paperradar.store.records import Subscription

ALICE = "alice@example.org"
BOB = "bob@example.org"
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def subscribe_email(engine: Engine, *recipients: str) -> None:
    profile = Profile(name="default", topics=dict(TOPICS))
    with session_scope(engine) as session:
        for recipient in recipients:
            subscribe(session, channel="email", recipient=recipient, profile=profile)


def subscription(engine: Engine, recipient: str) -> Subscription:
    with session_scope(engine) as session:
        found = find_subscription(session, channel="email", recipient=recipient)
    assert found is not None
    return found


def link_for(endpoint: str, secret: SecretStr, recipient: str) -> str:
    return unsubscribe_url(endpoint, secret, Scope("email", recipient))


def test_a_token_names_its_recipient_and_any_change_breaks_it(
    unsubscribe_secret: SecretStr,
) -> None:
    token = sign_token(unsubscribe_secret, Scope("email", ALICE))
    payload, signature = token.split(".")
    forged_payload = sign_token(unsubscribe_secret, Scope("email", BOB)).split(".")[0]
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]

    assert verify_token(unsubscribe_secret, token) == Scope("email", ALICE)
    assert sign_token(unsubscribe_secret, Scope("email", ALICE)) == token  # deterministic
    assert verify_token(unsubscribe_secret, f"{forged_payload}.{signature}") is None
    assert verify_token(unsubscribe_secret, f"{payload}.{flipped}") is None
    assert verify_token(SecretStr("another-secret-of-enough-length-012345"), token) is None
    for garbage in ("", ".", "abc", f"{payload}.", f".{signature}", "é.é", token + "x"):
        assert verify_token(unsubscribe_secret, garbage) is None


@pytest.mark.parametrize("junk", ["=", "==", ".", "%00", "\n", " ", "A", "/"])
def test_a_token_with_anything_appended_is_refused(
    unsubscribe_secret: SecretStr, junk: str
) -> None:
    token = sign_token(unsubscribe_secret, Scope("email", ALICE))
    assert verify_token(unsubscribe_secret, token + junk) is None
    assert verify_token(unsubscribe_secret, junk + token) is None


def test_one_click_post_deactivates_only_that_recipient(
    engine: Engine, unsubscribe_endpoint: str, unsubscribe_secret: SecretStr
) -> None:
    subscribe_email(engine, ALICE, BOB)

    response = httpx.post(link_for(unsubscribe_endpoint, unsubscribe_secret, ALICE), data=ONE_CLICK)

    assert response.status_code == 200
    assert "will get no more" in response.text
    assert subscription(engine, ALICE).active is False
    assert subscription(engine, BOB).active is True


def test_get_shows_a_confirm_form_and_changes_nothing(
    engine: Engine, unsubscribe_endpoint: str, unsubscribe_secret: SecretStr
) -> None:
    subscribe_email(engine, ALICE)
    link = link_for(unsubscribe_endpoint, unsubscribe_secret, ALICE)

    page = httpx.get(link)

    assert page.status_code == 200
    assert '<form method="post"' in page.text
    assert 'name="List-Unsubscribe" value="One-Click"' in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    assert subscription(engine, ALICE).active is True


def test_a_replayed_post_is_harmless(
    engine: Engine, unsubscribe_endpoint: str, unsubscribe_secret: SecretStr
) -> None:
    subscribe_email(engine, ALICE)
    link = link_for(unsubscribe_endpoint, unsubscribe_secret, ALICE)

    first = httpx.post(link, data=ONE_CLICK)
    again = httpx.post(link, data=ONE_CLICK)
    stranger = httpx.post(
        link_for(unsubscribe_endpoint, unsubscribe_secret, "x@y.org"), data=ONE_CLICK
    )

    assert first.status_code == again.status_code == stranger.status_code == 200
    assert first.text == again.text
    assert subscription(engine, ALICE).active is False


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_token_is_refused_and_changes_nothing(
    engine: Engine, unsubscribe_endpoint: str, unsubscribe_secret: SecretStr, method: str
) -> None:
    subscribe_email(engine, ALICE, BOB)
    alice_token = sign_token(unsubscribe_secret, Scope("email", ALICE))
    bob_payload = sign_token(unsubscribe_secret, Scope("email", BOB)).split(".")[0]
    forged = f"{bob_payload}.{alice_token.split('.')[1]}"

    response = httpx.request(
        method,
        unsubscribe_endpoint,
        params={"token": forged},
        data=ONE_CLICK if method == "post" else None,
    )

    assert response.status_code == 400
    assert "not valid" in response.text
    assert subscription(engine, ALICE).active and subscription(engine, BOB).active


def test_a_post_without_the_one_click_field_changes_nothing(
    engine: Engine, unsubscribe_endpoint: str, unsubscribe_secret: SecretStr
) -> None:
    subscribe_email(engine, ALICE)

    response = httpx.post(
        link_for(unsubscribe_endpoint, unsubscribe_secret, ALICE), data={"x": "1"}
    )

    assert response.status_code == 400
    assert subscription(engine, ALICE).active is True


def test_a_multipart_one_click_post_is_honoured(
    engine: Engine, unsubscribe_endpoint: str, unsubscribe_secret: SecretStr
) -> None:
    # RFC 8058 says the POST SHOULD be multipart/form-data (urlencoded MAY be used).
    subscribe_email(engine, ALICE)
    body = (
        b"--frontier\r\n"
        b'Content-Disposition: form-data; name="List-Unsubscribe"\r\n\r\n'
        b"One-Click\r\n"
        b"--frontier--\r\n"
    )
    headers = {"Content-Type": "multipart/form-data; boundary=frontier"}

    link = link_for(unsubscribe_endpoint, unsubscribe_secret, ALICE)
    response = httpx.post(link, content=body, headers=headers)

    assert response.status_code == 200
    assert subscription(engine, ALICE).active is False


def test_one_click_bodies_are_read_strictly() -> None:
    form = "application/x-www-form-urlencoded"
    assert is_one_click(form, b"List-Unsubscribe=One-Click")
    assert not is_one_click(form, b"List-Unsubscribe=Two-Clicks")
    assert not is_one_click("text/plain", b"List-Unsubscribe=One-Click")
    assert not is_one_click("multipart/form-data; boundary=b", b"garbage")


def test_other_paths_and_methods_are_refused(
    unsubscribe_endpoint: str, unsubscribe_secret: SecretStr
) -> None:
    link = link_for(unsubscribe_endpoint, unsubscribe_secret, ALICE)

    assert httpx.get(unsubscribe_endpoint.replace("/unsubscribe", "/other")).status_code == 404
    assert httpx.put(link, content=b"").status_code == 405


def test_the_newsletters_list_unsubscribe_header_works_end_to_end(
    engine: Engine,
    unsubscribe_endpoint: str,
    unsubscribe_secret: SecretStr,
    bilingual_day: list[dict[str, Any]],
) -> None:
    subscribe_email(engine, ALICE)
    settings = EmailSettings(
        host="127.0.0.1",
        sender="radar@example.org",
        unsubscribe_base_url=unsubscribe_endpoint,
        unsubscribe_secret=unsubscribe_secret,
    )
    message = render_email(build_view(bilingual_day[:1]), ALICE, settings=settings)
    header = message.headers["List-Unsubscribe"]

    # What a mail provider does with the two headers (RFC 8058 section 3.2).
    response = httpx.post(
        header.strip("<>"),
        data={message.headers["List-Unsubscribe-Post"].split("=")[0]: "One-Click"},
    )

    assert response.status_code == 200
    assert subscription(engine, ALICE).active is False
