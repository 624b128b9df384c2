import re
from dataclasses import replace
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Any

import pytest
from pydantic import SecretStr
from support.smtp import Certificate, Credentials, SMTPServer, free_port
from support.views import HOSTILE_TITLE, TOPICS, build_view

from paperradar.deliver.channels.email import EmailChannel, render_email
from paperradar.deliver.channels.protocol import message_from_json, message_to_json
from paperradar.errors import ChannelError, ConfigError
from paperradar.readers.unsubscribe import Scope, verify_token
from paperradar.settings import EmailSettings, Settings, load_settings
from paperradar.text import cut

SECRET = "unsubscribe-secret-for-tests-0123456789abcdef"
SENDER = "PaperRadar <radar@example.org>"
ALICE = "alice@example.org"
BOB = "bob@example.org"


def email_settings(server: SMTPServer, **changes: Any) -> EmailSettings:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": server.port,
        "security": "none",
        "sender": SENDER,
        "unsubscribe_base_url": "https://radar.example.org/unsubscribe",
        "unsubscribe_secret": SECRET,
        "timeout_seconds": 5,
    }
    return EmailSettings(**(values | changes))


def tls_settings(server: SMTPServer, certificate: Certificate, **changes: Any) -> EmailSettings:
    return email_settings(
        server,
        security=server.tls,
        tls_ca_file=certificate.cert_file,
        username="radar",
        password="correct horse",
        **changes,
    )


def parts_of(message: EmailMessage) -> dict[str, str]:
    return {part.get_content_type(): part.get_content() for part in message.iter_parts()}


class Elements(HTMLParser):
    """Every start tag and attribute of an HTML document, as a browser would see them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.hrefs.extend(value or "" for name, value in attrs if name == "href")
        assert not any(name.startswith("on") for name, _ in attrs)


def test_newsletter_arrives_as_text_and_html_with_one_click_unsubscribe(
    smtp_certificate: Certificate, bilingual_day: list[dict[str, Any]]
) -> None:
    credentials = Credentials("radar", "correct horse")
    with SMTPServer(
        tls="starttls", certificate=smtp_certificate, credentials=credentials
    ) as server:
        settings = tls_settings(server, smtp_certificate)
        channel = EmailChannel.from_settings(Settings(email=settings))
        assert channel is not None
        (message,) = channel.render(build_view(bilingual_day[:6]), ALICE)
        message = message_from_json(message_to_json(message))  # as the outbox stores it
        sent_id = channel.send(message, ALICE)
        channel.close()

    (received,) = server.received
    mail = received.message
    assert received.rcpt_tos == [ALICE]
    assert mail.get_content_type() == "multipart/alternative"
    assert list(parts_of(mail)) == ["text/plain", "text/html"]
    assert mail["To"] == ALICE and mail["From"] == SENDER
    assert mail["Subject"].startswith("论文雷达 PaperRadar · 10月15日 星期三 · 精选 7 篇：融合")
    assert mail["Message-ID"] == sent_id == message.headers["Message-ID"]
    assert re.fullmatch(r"<paperradar\.[0-9a-f]{32}@example\.org>", sent_id)
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = re.fullmatch(
        r"<(https://radar\.example\.org/unsubscribe\?token=(\S+))>", mail["List-Unsubscribe"]
    )
    assert link is not None
    assert verify_token(SecretStr(SECRET), link.group(2)) == Scope("email", ALICE)
    assert mail["Date"] is not None


def test_bilingual_items_reach_both_parts(
    smtp_certificate: Certificate, bilingual_day: list[dict[str, Any]]
) -> None:
    row = bilingual_day[0]
    with SMTPServer() as server:
        channel = EmailChannel(email_settings(server))
        (message,) = channel.render(build_view([row], hostile=False), ALICE)
        channel.send(message, ALICE)

    parts = parts_of(server.received[0].message)
    for body in parts.values():
        assert row["AI"]["tldr"] in body  # the Chinese TL;DR
        assert " ".join(row["title"].split()) in " ".join(body.split())
        assert "模型融合" in body  # the topic, in the reader's language
        assert "https://radar.example.org/unsubscribe?token=" in body
    assert f'href="https://arxiv.org/abs/{row["id"]}"' in parts["text/html"]


def test_two_recipients_each_receive_only_their_topics(
    bilingual_day: list[dict[str, Any]],
) -> None:
    # delivery.py filters a view to a recipient's topics; the channel renders what it gets.
    views = {
        ALICE: build_view(bilingual_day[:6], topics=("model_merging",)),
        BOB: build_view(bilingual_day[:6], topics=("long_context",), languages=("en",)),
    }
    with SMTPServer() as server:
        channel = EmailChannel(email_settings(server))
        for recipient, view in views.items():
            for message in channel.render(view, recipient):
                channel.send(message, recipient)

    by_recipient = {r.rcpt_tos[0]: parts_of(r.message) for r in server.received}
    assert set(by_recipient) == {ALICE, BOB}
    alice_html, bob_html = by_recipient[ALICE]["text/html"], by_recipient[BOB]["text/html"]
    assert f"{TOPICS['model_merging'].title_zh}（" in alice_html
    assert f"{TOPICS['long_context'].title_zh}（" not in alice_html
    assert TOPICS["long_context"].title in bob_html
    assert TOPICS["model_merging"].title not in bob_html
    assert "摘要" not in bob_html and "TL;DR" in bob_html  # Bob reads English only
    ids = {r.message["Message-ID"] for r in server.received}
    assert len(ids) == 2


def test_hostile_title_and_abstract_arrive_escaped(bilingual_day: list[dict[str, Any]]) -> None:
    with SMTPServer() as server:
        channel = EmailChannel(email_settings(server))
        (message,) = channel.render(build_view(bilingual_day[:2]), ALICE)
        channel.send(message, ALICE)

    parts = parts_of(server.received[0].message)
    html = parts["text/html"]
    elements = Elements(html)
    assert "script" not in elements.tags and "img" not in elements.tags
    assert "font" not in elements.tags and "b" not in elements.tags
    assert all(
        href.startswith(("https://arxiv.org/", "https://radar.example.org/", "#pick-"))
        for href in elements.hrefs
    )
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    # The plain-text part shows the title as it is: text cannot execute.
    assert " ".join(HOSTILE_TITLE.split()) in " ".join(parts["text/plain"].split())


def test_message_id_is_the_same_on_every_render_and_differs_per_recipient_and_day(
    bilingual_day: list[dict[str, Any]],
) -> None:
    settings = EmailSettings(
        host="smtp.example.org",
        sender=SENDER,
        unsubscribe_base_url="https://radar.example.org/unsubscribe",
        unsubscribe_secret=SECRET,
    )
    view = build_view(bilingual_day[:3])

    def rendered(view: Any, recipient: str) -> dict[str, str]:
        return render_email(view, recipient, settings=settings).headers

    first, again = rendered(view, ALICE), rendered(view, ALICE)
    other_day = replace(view, day=view.day.replace(day=16))

    assert first == again
    assert rendered(view, BOB)["Message-ID"] != first["Message-ID"]
    assert rendered(other_day, ALICE)["Message-ID"] != first["Message-ID"]


def test_starttls_against_a_server_without_it_fails_loudly_and_sends_nothing(
    bilingual_day: list[dict[str, Any]],
) -> None:
    with SMTPServer(tls="none") as server:
        channel = EmailChannel(email_settings(server, security="starttls"))
        (message,) = channel.render(build_view(bilingual_day[:1]), ALICE)
        with pytest.raises(ConfigError, match=r"does not offer STARTTLS.*never falls back"):
            channel.send(message, ALICE)

    assert server.received == []


def test_ssl_mode_delivers_over_implicit_tls(
    smtp_certificate: Certificate, bilingual_day: list[dict[str, Any]]
) -> None:
    credentials = Credentials("radar", "correct horse")
    with SMTPServer(tls="ssl", certificate=smtp_certificate, credentials=credentials) as server:
        channel = EmailChannel(tls_settings(server, smtp_certificate))
        (message,) = channel.render(build_view(bilingual_day[:1]), ALICE)
        channel.send(message, ALICE)

    assert [r.rcpt_tos for r in server.received] == [[ALICE]]


def test_an_untrusted_certificate_is_a_config_error(
    smtp_certificate: Certificate, bilingual_day: list[dict[str, Any]]
) -> None:
    with SMTPServer(tls="ssl", certificate=smtp_certificate) as server:
        settings = email_settings(server, security="ssl")  # no tls_ca_file
        channel = EmailChannel(settings)
        (message,) = channel.render(build_view(bilingual_day[:1]), ALICE)
        with pytest.raises(ConfigError, match="PAPERRADAR_EMAIL__TLS_CA_FILE"):
            channel.send(message, ALICE)

    assert server.received == []


def test_a_rejected_login_is_a_config_error_not_a_hang(bilingual_day: list[dict[str, Any]]) -> None:
    credentials = Credentials("radar", "correct horse")
    with SMTPServer(credentials=credentials) as server:
        settings = email_settings(
            server, username="radar", password="wrong", allow_login_without_tls=True
        )
        channel = EmailChannel(settings)
        (message,) = channel.render(build_view(bilingual_day[:1]), ALICE)
        with pytest.raises(ConfigError, match=r"refused the login.*PAPERRADAR_EMAIL__PASSWORD"):
            channel.send(message, ALICE)

    assert credentials.attempts >= 1
    assert server.received == []


@pytest.mark.parametrize(
    ("reply", "retryable"),
    [("550 5.1.1 No such user", False), ("451 4.3.0 Mailbox busy, try later", True)],
)
def test_a_refused_recipient_is_permanent_on_5xx_and_retryable_on_4xx(
    reply: str, retryable: bool, bilingual_day: list[dict[str, Any]]
) -> None:
    with SMTPServer() as server:
        server.inbox.refuse[BOB] = reply
        channel = EmailChannel(email_settings(server))
        (message,) = channel.render(build_view(bilingual_day[:1]), BOB)
        with pytest.raises(ChannelError) as caught:
            channel.send(message, BOB)

    assert caught.value.retryable is retryable
    assert reply.split()[0] in str(caught.value)


def test_an_unreachable_server_is_retryable(bilingual_day: list[dict[str, Any]]) -> None:
    settings = EmailSettings(
        host="127.0.0.1",
        port=free_port(),
        security="none",
        sender=SENDER,
        unsubscribe_base_url="https://radar.example.org/unsubscribe",
        unsubscribe_secret=SECRET,
        timeout_seconds=2,
    )
    channel = EmailChannel(settings)
    (message,) = channel.render(build_view(bilingual_day[:1]), ALICE)

    with pytest.raises(ChannelError) as caught:
        channel.send(message, ALICE)

    assert caught.value.retryable


@pytest.mark.parametrize(
    "recipient", ["alice@example.org\r\nBcc: eve@example.org", "Alice <a@b.c>", "nobody"]
)
def test_a_malformed_recipient_is_refused_before_connecting(
    recipient: str, bilingual_day: list[dict[str, Any]]
) -> None:
    with SMTPServer() as server:
        channel = EmailChannel(email_settings(server))
        (message,) = channel.render(build_view(bilingual_day[:1]), ALICE)
        with pytest.raises(ChannelError) as caught:
            channel.send(message, recipient)

    assert not caught.value.retryable
    assert server.received == []


def test_no_host_means_no_email_channel() -> None:
    assert EmailChannel.from_settings(Settings()) is None


@pytest.mark.parametrize(
    ("values", "fix"),
    [
        ({"host": None}, "email.host is not set"),
        ({"sender": None}, "PAPERRADAR_EMAIL__SENDER"),
        ({"sender": "PaperRadar"}, "PAPERRADAR_EMAIL__SENDER"),
        ({"security": "none", "username": "u", "password": "p"}, "in the clear"),
        (
            {"security": "none", "username": "u", "password": "p", "allow_login_without_tls": True},
            "loopback",
        ),
        ({"username": "u"}, "PAPERRADAR_EMAIL__PASSWORD"),
        ({"unsubscribe_base_url": None}, "PAPERRADAR_EMAIL__UNSUBSCRIBE_BASE_URL"),
        ({"unsubscribe_base_url": "http://radar.example.org/u"}, "RFC 8058 requires HTTPS"),
        ({"unsubscribe_base_url": "https://radar.example.org/u?list=1"}, "no query"),
        ({"unsubscribe_secret": "changethis"}, "PAPERRADAR_EMAIL__UNSUBSCRIBE_SECRET"),
        ({"tls_ca_file": "/nonexistent/ca.pem"}, "PAPERRADAR_EMAIL__TLS_CA_FILE"),
    ],
)
def test_settings_refuse_unsafe_or_half_configured_email(values: dict[str, Any], fix: str) -> None:
    complete: dict[str, Any] = {
        "host": "smtp.example.org",
        "sender": SENDER,
        "unsubscribe_base_url": "https://radar.example.org/unsubscribe",
        "unsubscribe_secret": SECRET,
    }
    with pytest.raises(ConfigError, match=re.escape(fix)):
        load_settings(email=complete | values)


def test_settings_default_the_port_from_the_security_mode() -> None:
    base = {"host": "smtp.example.org", "sender": SENDER, "unsubscribe_secret": SECRET}
    base["unsubscribe_base_url"] = "https://radar.example.org/unsubscribe"

    ports = {
        mode: EmailSettings(**base, security=mode).resolved_port
        for mode in ("starttls", "ssl", "none")
    }

    assert ports == {"starttls": 587, "ssl": 465, "none": 25}


def test_the_subject_names_the_day_the_count_and_the_top_pick(
    bilingual_day: list[dict[str, Any]],
) -> None:
    settings = EmailSettings(
        host="smtp.example.org",
        sender=SENDER,
        unsubscribe_base_url="https://radar.example.org/unsubscribe",
        unsubscribe_secret=SECRET,
    )
    view = build_view(bilingual_day[:1], name="sub-12", languages=("en",))

    message = render_email(view, ALICE, settings=settings)

    top = view.sections[0].items[0].paper.title
    assert message.subject == f"PaperRadar · Wed 15 Oct · 2 picks: {cut(top, 70)}"
