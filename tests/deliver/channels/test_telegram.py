"""Telegram: escaped HTML subset, 4096-character parts on item boundaries, buttons, real sends."""

from typing import Any

import pytest
from pydantic import SecretStr
from support.bot_api import BotApiServer, Failure, check_html
from support.views import HOSTILE_ID, build_view, hostile_paper

from paperradar.compose.digests import DigestView
from paperradar.deliver.channels import build_channels
from paperradar.deliver.channels.telegram import (
    LIMIT,
    TelegramChannel,
    render_digest,
    telegram_length,
)
from paperradar.errors import ChannelError, ConfigError
from paperradar.readers import feedback
from paperradar.settings import Settings, TelegramSettings, load_settings


def _channel(server: BotApiServer, **options: Any) -> TelegramChannel:
    settings = TelegramSettings(
        bot_token=SecretStr(server.token), base_url=server.base_url, max_retries=0, **options
    )
    return TelegramChannel(settings)


def _item_ids(view: DigestView) -> list[str]:
    return [item.paper.arxiv_id for section in view.sections for item in section.items]


def test_abstract_html_is_escaped_in_telegram(bilingual_day: list[dict[str, Any]]) -> None:
    view = build_view(bilingual_day[:3])
    text = "\n".join(part.text for part in render_digest(view))
    assert check_html(text) is None
    assert "&lt;script&gt;alert(" in text
    assert "&lt;font color=" in text
    assert "Mallory &lt;m@evil.example&gt;" in text
    for raw in ("<script", "<font", "<img", "</p>", "<i>x</i>"):
        assert raw not in text


def test_parts_stay_under_4096_characters_and_split_only_between_items(
    bilingual_day: list[dict[str, Any]],
) -> None:
    view = build_view(bilingual_day[:40])
    parts = render_digest(view)
    assert len(parts) > 3
    shown: list[str] = []
    for number, part in enumerate(parts, start=1):
        assert telegram_length(part.text) <= LIMIT
        assert check_html(part.text) is None
        assert part.text.startswith(f"<i>({number}/{len(parts)})</i>")
        ids = [row[2].url.rsplit("/", 1)[1] for row in part.buttons if row[2].url]
        for paper_id in ids:
            assert part.text.count(f'href="https://arxiv.org/abs/{paper_id}"') == 1
        shown += ids
    assert shown == _item_ids(view)


def test_an_item_longer_than_a_message_is_cut_cleanly(
    bilingual_day: list[dict[str, Any]],
) -> None:
    view = build_view(bilingual_day[:2])
    huge = hostile_paper().model_copy(update={"title": '<&"' * 3000, "abstract": "&<" * 9000})
    first = view.sections[0].items[0].__class__(1, huge, view.sections[0].items[0].match, (), None)
    sections = (view.sections[0].__class__("model_merging", view.sections[0].topic, (first,)),)
    (part,) = render_digest(DigestView(view.profile, view.day, True, 311, sections))
    assert telegram_length(part.text) <= LIMIT
    assert check_html(part.text) is None
    assert "…</b>" in part.text


def test_each_item_gets_feedback_buttons_of_at_most_64_bytes_and_its_links(
    bilingual_day: list[dict[str, Any]],
) -> None:
    view = build_view(bilingual_day[:5])
    parts = render_digest(view)
    rows = [row for part in parts for row in part.buttons]
    matches = [item.match for section in view.sections for item in section.items]
    assert len(rows) == len(matches)
    for row, match in zip(rows, matches, strict=True):
        up, down, abs_link, pdf_link = row
        assert up.callback_data is not None and down.callback_data is not None
        assert len(up.callback_data.encode()) <= 64
        assert feedback.decode(up.callback_data) == feedback.Vote(match.id or 0, 1)
        assert feedback.decode(down.callback_data) == feedback.Vote(match.id or 0, -1)
        assert abs_link.url == f"https://arxiv.org/abs/{match.paper_id}"
        assert pdf_link.url == f"https://arxiv.org/pdf/{match.paper_id}"


def test_feedback_codec_rejects_anything_it_did_not_make() -> None:
    assert feedback.encode(2**60, feedback.DOWN) == f"fb:-:{2**60}"
    for data in ("fb:+:", "fb:*:1", "fb:+:1:2", "x" * 64, "fb:+:-1"):
        with pytest.raises(feedback.FeedbackError):
            feedback.decode(data)


def test_language_choice_shows_only_that_language(bilingual_day: list[dict[str, Any]]) -> None:
    english = "\n".join(
        part.text for part in render_digest(build_view(bilingual_day[:3], languages=["en"]))
    )
    both = "\n".join(part.text for part in render_digest(build_view(bilingual_day[:3])))
    assert "模型融合" in both and "模型融合" not in english
    assert "提出" in both and "提出" not in english


def test_send_posts_html_with_the_keyboard_to_the_configured_bot_api(
    bot_api: BotApiServer, bilingual_day: list[dict[str, Any]]
) -> None:
    channel = _channel(bot_api)
    parts = render_digest(build_view(bilingual_day[:4]))
    ids = [channel.send(part, "4242") for part in parts]
    channel.close()
    received = bot_api.sent_to(4242)
    assert ids == [str(sent.message_id) for sent in received]
    assert [sent.text for sent in received] == [part.text for part in parts]
    assert all(sent.parse_mode == "HTML" for sent in received)
    keyboard = received[0].reply_markup
    assert keyboard is not None
    assert keyboard["inline_keyboard"][0][2] == {
        "text": "abs",
        "url": f"https://arxiv.org/abs/{HOSTILE_ID}",
    }
    assert bot_api.state.calls.count("getMe") == 1


@pytest.mark.parametrize(
    ("failure", "retryable"),
    [
        (Failure(429, "Too Many Requests: retry after 3", retry_after=3), True),
        (Failure(502, "Bad Gateway"), True),
        (Failure(500, "Internal Server Error"), True),
        (Failure(403, "Forbidden: bot was blocked by the user"), False),
        (Failure(400, "Bad Request: chat not found"), False),
    ],
)
def test_send_maps_bot_api_errors_to_retryable_or_final(
    bot_api: BotApiServer,
    bilingual_day: list[dict[str, Any]],
    failure: Failure,
    retryable: bool,
) -> None:
    channel = _channel(bot_api)
    (part, *_) = render_digest(build_view(bilingual_day[:1]))
    bot_api.fail_next(77, failure)
    with pytest.raises(ChannelError) as raised:
        channel.send(part, "77")
    assert raised.value.retryable is retryable
    assert channel.send(part, "77") == str(bot_api.sent_to(77)[0].message_id)
    channel.close()


def test_a_rejected_token_is_a_config_error(bot_api: BotApiServer) -> None:
    channel = TelegramChannel(
        TelegramSettings(bot_token=SecretStr("1:wrong"), base_url=bot_api.base_url)
    )
    (part, *_) = render_digest(build_view([], hostile=True))
    with pytest.raises(ConfigError, match="PAPERRADAR_TELEGRAM__BOT_TOKEN"):
        channel.send(part, "1")
    channel.close()


def test_telegram_is_built_only_when_configured_and_half_configured_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert "telegram" not in build_channels(Settings())
    configured = Settings(telegram=TelegramSettings(bot_token=SecretStr("1:x")))
    assert isinstance(build_channels(configured)["telegram"], TelegramChannel)
    monkeypatch.setenv("PAPERRADAR_TELEGRAM__BASE_URL", "http://127.0.0.1:8081/bot")
    with pytest.raises(ConfigError, match="PAPERRADAR_TELEGRAM__BOT_TOKEN"):
        load_settings()
