"""The acceptance path: one run's outbox reaches a WeCom group and two email recipients."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import select
from support.outbox import seed_digest
from support.smtp import SMTPServer
from support.views import DAY, TOPICS
from support.wecom_api import WebhookServer

from paperradar.app import App
from paperradar.deliver import outbox as delivery
from paperradar.deliver.channels.email import EmailChannel
from paperradar.deliver.channels.wecom import WeComChannel
from paperradar.embed.embeddings import Embedder
from paperradar.profiles.profile import Profile
from paperradar.readers.subscriptions import subscribe
from paperradar.settings import EmailSettings, Settings, WeComSettings
from paperradar.store.db import session_scope
from paperradar.store.records import Delivery
from paperradar.store.states import DeliveryStatus

ALICE = "alice@example.org"
# 09:00 in Shanghai on the morning after the announcement: the default first delivery time.
SEND_TIME = datetime(2025, 10, 16, 1, 0, tzinfo=UTC)
BOB = "bob@example.org"


def test_a_run_delivers_to_a_wecom_group_and_two_email_recipients_each_with_their_topics(
    settings: Settings,
    engine: Engine,
    embedder: Embedder,
    wecom_webhook: WebhookServer,
    unsubscribe_secret: Any,
    bilingual_day: list[dict[str, Any]],
) -> None:
    profile = Profile(name="default", topics=dict(TOPICS))
    seed_digest(engine, profile, bilingual_day[:10])
    with session_scope(engine) as session:
        subscribe(session, channel="wecom", recipient="lab", profile=profile)
        subscribe(
            session, channel="email", recipient=ALICE, profile=profile, topics=["model_merging"]
        )
        subscribe(session, channel="email", recipient=BOB, profile=profile, topics=["long_context"])

    with SMTPServer() as smtp:
        email = EmailSettings(
            host="127.0.0.1",
            port=smtp.port,
            security="none",
            sender="PaperRadar <radar@example.org>",
            unsubscribe_base_url="https://radar.example.org/unsubscribe",
            unsubscribe_secret=unsubscribe_secret,
        )
        channels = {
            "wecom": WeComChannel(WeComSettings(webhooks={"lab": wecom_webhook.url()})),
            "email": EmailChannel(email),
        }
        ctx = App(settings, engine, (profile,), embedder, None, channels=channels)
        # The day's run, as `delivery.run` does it, at the default send time.
        for _ in range(2):  # the second run sends nothing again
            with session_scope(engine) as session:
                delivery.plan_deliveries(session, ctx.outbox(), DAY)
            delivery.deliver_due(ctx.outbox(), now=SEND_TIME)

    with session_scope(engine) as session:
        rows = session.exec(select(Delivery)).all()
        assert {(row.channel, row.recipient, row.status) for row in rows} == {
            ("wecom", "lab", DeliveryStatus.SENT),
            ("email", ALICE, DeliveryStatus.SENT),
            ("email", BOB, DeliveryStatus.SENT),
        }
        wecom_parts = next(row.parts_total for row in rows if row.channel == "wecom")
    assert len(wecom_webhook.posts) == wecom_parts
    group = "\n".join(wecom_webhook.contents)
    # The profile reads both languages: the chrome, topic names included, is Chinese.
    assert TOPICS["model_merging"].title_zh in group and TOPICS["long_context"].title_zh in group
    assert len(smtp.received) == 2
    html = {
        mail.rcpt_tos[0]: mail.message.get_body(("html",)).get_content() for mail in smtp.received
    }
    zh = {key: str(topic.title_zh) for key, topic in TOPICS.items()}
    assert zh["model_merging"] in html[ALICE] and zh["long_context"] not in html[ALICE]
    assert zh["long_context"] in html[BOB] and zh["model_merging"] not in html[BOB]
