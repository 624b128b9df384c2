import re
from dataclasses import replace
from typing import Any

import pytest
from support.smtp import free_port
from support.views import HOSTILE_ID, build_view
from support.wecom_api import WebhookReply, WebhookServer, errcode

from paperradar.compose.rendering import pack_blocks
from paperradar.deliver.channels.protocol import message_from_json, message_to_json
from paperradar.deliver.channels.wecom import (
    MARKDOWN_MAX_BYTES,
    RateLimiter,
    WeComChannel,
    render_markdown,
    utf8_size,
)
from paperradar.errors import ChannelError, ConfigError
from paperradar.profiles.profile import Profile
from paperradar.settings import Settings, WeComSettings, load_settings

LINK = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")
TAG = re.compile(r"<[^>]*>")
OWN_TAG = re.compile(r'^(<font color="(info|comment|warning)">|</font>)$')


class FakeClock:
    """A clock whose sleep only moves its own time forward."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def channel_for(
    webhook: WebhookServer, *, clock: FakeClock | None = None, **urls: str
) -> WeComChannel:
    settings = WeComSettings(webhooks=urls or {"lab": webhook.url()})
    return WeComChannel(settings, clock=clock or FakeClock())


def hostile_block(parts: list[str]) -> str:
    """The hostile item's lines: from its number to the next item."""
    text = "\n".join(parts)
    start = text.index("**1.**")
    end = text.find("\n**2.**", start)
    assert f"(https://arxiv.org/abs/{HOSTILE_ID})" in text[start:end]
    return text[start:end]


def test_cjk_digest_splits_under_4096_bytes_on_item_boundaries(
    bilingual_day: list[dict[str, Any]],
) -> None:
    view = build_view(bilingual_day[:40])
    parts = render_markdown(view)

    assert len(parts) > 3
    assert all(utf8_size(part) <= MARKDOWN_MAX_BYTES for part in parts)
    # A part is far fuller in bytes than in characters: the split counts bytes.
    assert max(utf8_size(part) for part in parts) > MARKDOWN_MAX_BYTES * 3 // 4
    assert all(len(part) < utf8_size(part) for part in parts)
    for number, part in enumerate(parts, 1):
        assert part.endswith(f"({number}/{len(parts)})</font>")
    for item in view.items:
        holding = [part for part in parts if f"arxiv.org/abs/{item.paper.arxiv_id})" in part]
        assert len(holding) == 1, item.paper.arxiv_id
        # The whole item, number to TL;DR, sits in that one part.
        assert f"**{item.number}.**" in holding[0]


def test_a_pick_stays_one_compact_block_however_long_its_summary(
    bilingual_day: list[dict[str, Any]],
) -> None:
    view = build_view(bilingual_day[:1], hostile=False)
    item = view.sections[0].items[0]
    assert item.summary is not None
    long_tldr = "模型融合与长上下文推理。" * 400  # 4,800 characters, 14,400 bytes
    summary = item.summary.model_copy(update={"tldr_zh": long_tldr})
    items = (replace(item, summary=summary),)
    view = replace(view, sections=(replace(view.sections[0], items=items),))

    parts = render_markdown(view)

    (part,) = parts
    assert utf8_size(part) < MARKDOWN_MAX_BYTES // 4
    assert part.count("模型融合与长上下文推理。") < 20 and "..." in part


def test_packing_by_bytes_never_cuts_inside_a_character() -> None:
    text = "a" + "融" * 10  # 1 + 30 bytes: a 4-byte limit falls inside the second character

    parts = pack_blocks([text], limit=4, size=utf8_size)

    assert all(utf8_size(part) <= 4 for part in parts)
    assert "".join(parts) == text
    assert parts[0] == "a融"


def test_hostile_title_and_summary_cannot_inject_markup_or_links(
    bilingual_day: list[dict[str, Any]],
) -> None:
    parts = render_markdown(build_view(bilingual_day[:3]))
    text = "\n".join(parts)
    block = hostile_block(parts)

    assert all(url.startswith("https://arxiv.org/") for _, url in LINK.findall(text))
    assert all(OWN_TAG.match(tag) for tag in TAG.findall(text)), TAG.findall(text)
    assert "http://evil" not in text and "https://evil" not in text
    assert "<@all>" not in text and "`" not in text
    # Markup characters became their fullwidth look-alikes.
    # (A Chinese reader's title is the summary's: hostile too.)
    assert "**粗体**" not in block and "\uff0a\uff0a粗体\uff0a\uff0a" in block
    assert "\uff3b链接\uff3d" in block and "\uff1cfont" in block
    # Newlines inside paper text are flattened, so no line of it can start a heading or quote.
    assert not any(line.startswith(("# ", "#")) for line in block.splitlines())
    assert len([line for line in block.splitlines() if line.startswith(">")]) == 1


def test_languages_follow_the_recipients_view(bilingual_day: list[dict[str, Any]]) -> None:
    english = render_markdown(build_view(bilingual_day[:2], languages=("en",)))
    chinese = render_markdown(build_view(bilingual_day[:2], languages=("zh",)))

    assert "picks" in english[0] and "精选" not in english[0]
    assert "picks" not in chinese[0] and "精选" in chinese[0]


def test_a_view_with_no_picks_renders_one_short_part(bilingual_day: list[dict[str, Any]]) -> None:
    view = build_view(bilingual_day[:2], hostile=False)
    empty = replace(view, sections=tuple(replace(s, items=()) for s in view.sections))

    parts = render_markdown(empty)

    assert len(parts) == 1
    assert "没有超过你的阈值的" in parts[0]


def test_send_posts_each_part_as_markdown_to_the_groups_webhook(
    wecom_webhook: WebhookServer, bilingual_day: list[dict[str, Any]]
) -> None:
    settings = Settings(wecom=WeComSettings(webhooks={"lab": wecom_webhook.url()}))
    channel = WeComChannel.from_settings(settings)
    assert channel is not None
    messages = channel.render(build_view(bilingual_day[:20]), "lab")
    # Parts go through the outbox as JSON and come back unchanged.
    messages = [message_from_json(message_to_json(message)) for message in messages]

    ids = [channel.send(message, "lab") for message in messages]
    channel.close()

    assert wecom_webhook.contents == [message.text for message in messages]
    assert all(message.format == "markdown" for message in messages)
    assert len(set(ids)) == len(ids) and all(i.startswith("wecom-") for i in ids)


def test_no_webhooks_means_no_wecom_channel() -> None:
    assert WeComChannel.from_settings(Settings()) is None


def test_rate_limited_reply_45009_is_retryable(wecom_webhook: WebhookServer) -> None:
    wecom_webhook.script(errcode(45009, "api freq out of limit"))
    channel = channel_for(wecom_webhook)
    (message,) = channel.render(build_view([], hostile=True), "lab")

    with pytest.raises(ChannelError) as caught:
        channel.send(message, "lab")

    assert caught.value.retryable
    assert "45009" in str(caught.value)


@pytest.mark.parametrize(("status", "retryable"), [(502, True), (429, True), (404, False)])
def test_http_errors_are_retryable_only_when_temporary(
    wecom_webhook: WebhookServer, status: int, retryable: bool
) -> None:
    wecom_webhook.script(WebhookReply(status=status, body={}))
    channel = channel_for(wecom_webhook)
    (message,) = channel.render(build_view([]), "lab")

    with pytest.raises(ChannelError) as caught:
        channel.send(message, "lab")

    assert caught.value.retryable is retryable


def test_other_errcodes_are_permanent(wecom_webhook: WebhookServer) -> None:
    wecom_webhook.script(errcode(40008, "invalid message type"))
    channel = channel_for(wecom_webhook)
    (message,) = channel.render(build_view([]), "lab")

    with pytest.raises(ChannelError) as caught:
        channel.send(message, "lab")

    assert not caught.value.retryable


def test_a_wrong_webhook_key_is_a_config_error_naming_the_setting(
    wecom_webhook: WebhookServer,
) -> None:
    channel = channel_for(wecom_webhook, lab=wecom_webhook.url("revoked-key"))
    (message,) = channel.render(build_view([]), "lab")

    with pytest.raises(ConfigError, match="PAPERRADAR_WECOM__WEBHOOKS__LAB"):
        channel.send(message, "lab")
    assert wecom_webhook.posts == []


def test_a_group_without_a_webhook_waits_for_one(wecom_webhook: WebhookServer) -> None:
    channel = channel_for(wecom_webhook)
    (message,) = channel.render(build_view([]), "reading-group")

    with pytest.raises(ChannelError, match="PAPERRADAR_WECOM__WEBHOOKS__READING-GROUP") as caught:
        channel.send(message, "reading-group")

    assert caught.value.retryable


def test_an_unreachable_webhook_is_retryable_and_keeps_the_key_out_of_the_error() -> None:
    url = f"http://127.0.0.1:{free_port()}/cgi-bin/webhook/send?key=secret-bot-key"
    channel = WeComChannel(WeComSettings(webhooks={"lab": url}, timeout_seconds=2))
    (message,) = channel.render(build_view([]), "lab")

    with pytest.raises(ChannelError) as caught:
        channel.send(message, "lab")

    assert caught.value.retryable
    assert "secret-bot-key" not in str(caught.value)


def test_the_limiter_lets_20_through_then_waits_for_the_oldest_to_age() -> None:
    clock = FakeClock()
    limiter = RateLimiter(20, clock=clock)

    waits = [limiter.wait() for _ in range(20)]
    clock.now += 15.0
    twenty_first = limiter.wait()

    assert waits == [0.0] * 20
    assert twenty_first == pytest.approx(45.0)
    assert clock.slept == [pytest.approx(45.0)]
    # The window slides: once a minute has passed since the first sends, sends flow again.
    clock.now += 60.0
    assert limiter.wait() == 0.0


def test_the_channel_paces_a_long_digest_to_the_bots_limit(
    wecom_webhook: WebhookServer, bilingual_day: list[dict[str, Any]]
) -> None:
    clock = FakeClock()
    channel = channel_for(wecom_webhook, clock=clock)
    message = channel.render(build_view(bilingual_day[:1]), "lab")[0]

    for _ in range(21):
        channel.send(message, "lab")

    assert len(wecom_webhook.posts) == 21
    assert clock.slept == [pytest.approx(60.0)]


def test_settings_refuse_a_webhook_that_is_not_a_bot_address() -> None:
    with pytest.raises(ConfigError, match="PAPERRADAR_WECOM__WEBHOOKS__LAB"):
        load_settings(wecom={"webhooks": {"lab": "http://qyapi.weixin.qq.com/send?key=k"}})
    with pytest.raises(ConfigError, match="key="):
        load_settings(wecom={"webhooks": {"lab": "https://qyapi.weixin.qq.com/cgi-bin/webhook"}})
    with pytest.raises(ConfigError, match=r"wecom\.webhooks is empty"):
        load_settings(wecom={"messages_per_minute": 10})
    with pytest.raises(ConfigError, match="messages_per_minute"):
        load_settings(wecom={"webhooks": {"lab": "https://h/x?key=k"}, "messages_per_minute": 30})


def test_profile_topics_without_chinese_titles_render(bilingual_day: list[dict[str, Any]]) -> None:
    view = build_view(bilingual_day[:1], hostile=False)
    topic = view.sections[0].topic.model_copy(update={"title_zh": None})
    profile = Profile(name="x", topics={"model_merging": topic})
    section = replace(view.sections[0], topic=topic)
    parts = render_markdown(replace(view, profile=profile, sections=(section,)))

    assert "### Model merging（1）" in parts[0]
