"""Every channel renders one summarised day for a zh-only, an en-only and a both reader.

The chrome (labels, counts, dates, headings, topic-hit lines) is checked on the same digest with
every paper-derived text blanked to a symbol, so what is left is the channel's own words:
a Chinese reader gets no English word but the product's and arXiv's names, an English reader no
Chinese character. The real papers' rendering is checked for what a reader must never see
(seed ids, cosines) and for LaTeX shown as Unicode.
"""

import html
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from support.views import DAY, SEED_ID, build_view

from paperradar.compose.changes import TextChange
from paperradar.compose.digests import DigestView, ItemView
from paperradar.compose.people import PersonItem
from paperradar.compose.rendering import render_text
from paperradar.compose.updates import UpdateView
from paperradar.deliver.channels.email import render_email
from paperradar.deliver.channels.telegram import render_digest
from paperradar.deliver.channels.wecom import render_markdown
from paperradar.rank.reasons import MatchReason
from paperradar.settings import EmailSettings

BLANK = "◆"
CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")
WORD = re.compile(r"[A-Za-z]{2,}")
TAG = re.compile(r"<[^>]*>")
URL = re.compile(r"https?://\S+|\S+@\S+")
# Names, not English: the product's, arXiv's, the link labels and the arXiv category codes.
NAMES = {"PaperRadar", "arXiv", "abs", "pdf", "html", "cs", "CL", "AI", "LG"}
LATEX_ID = "2510.11956"  # its abstract: `$\underline{c}$heatable, $\underline{r}$ealistic, …`
EMAIL = EmailSettings(
    host="smtp.example.org",
    sender="radar@example.org",
    unsubscribe_base_url="https://radar.example.org/unsubscribe",
    unsubscribe_secret="s" * 32,
)


def _telegram(view: DigestView) -> str:
    return "\n".join(message.text for message in render_digest(view))


def _email(view: DigestView) -> str:
    message = render_email(view, "reader@example.org", settings=EMAIL)
    return "\n".join([message.subject or "", message.text, message.html or ""])


def _wecom(view: DigestView) -> str:
    return "\n".join(render_markdown(view))


def _terminal(view: DigestView) -> str:
    return render_text(view)


CHANNELS: dict[str, Callable[[DigestView], str]] = {
    "telegram": _telegram,
    "email": _email,
    "wecom": _wecom,
    "terminal": _terminal,
}


def _blank_item(item: ItemView) -> ItemView:
    paper = item.paper.model_copy(
        update={
            "title": BLANK,
            "abstract": BLANK,
            "authors": [BLANK] * 5,
            "comment": None,
            "categories": ["cs.CL"],
        }
    )
    summary = item.summary and item.summary.model_copy(
        update={
            "title_zh": BLANK,
            "tldr_zh": BLANK,
            "tldr_en": BLANK,
            "abstract_zh": BLANK,
            "why_by_topic": {},
        }
    )
    reason = MatchReason(phrases=(BLANK,), seed=SEED_ID)
    match = item.match.model_copy(update={"reason": reason.dump()})
    return replace(item, paper=paper, summary=summary, match=match)


def blanked(view: DigestView) -> DigestView:
    """The digest with every text that comes from a paper, a summary or a seed blanked."""
    sections = tuple(
        replace(section, items=tuple(_blank_item(item) for item in section.items))
        for section in view.sections
    )
    return replace(view, sections=sections, titles={SEED_ID: BLANK})


def chrome_of(rendered: str) -> str:
    """What a reader reads besides the papers: no tags, entities, web or e-mail addresses."""
    return URL.sub(" ", html.unescape(TAG.sub(" ", rendered)))


@pytest.fixture
def day(bilingual_day: list[dict[str, Any]]) -> list[dict[str, Any]]:
    latex = next(row for row in bilingual_day if row["id"] == LATEX_ID)
    return [latex, *[row for row in bilingual_day if row["id"] != LATEX_ID][:5]]


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_chinese_reader_reads_no_english_chrome(channel: str, day: list[dict[str, Any]]) -> None:
    view = blanked(build_view(day, languages=["zh"], hostile=False))
    words = set(WORD.findall(chrome_of(CHANNELS[channel](view)))) - NAMES
    assert not words, f"{channel}: English chrome for a Chinese reader: {sorted(words)}"


@pytest.mark.parametrize("channel", CHANNELS)
def test_an_english_reader_reads_no_chinese_chrome(channel: str, day: list[dict[str, Any]]) -> None:
    view = blanked(build_view(day, languages=["en"], hostile=False))
    chinese = CJK.findall(chrome_of(CHANNELS[channel](view)))
    assert not chinese, f"{channel}: Chinese chrome for an English reader: {chinese[:20]}"


@pytest.mark.parametrize("languages", [["zh"], ["en"], ["zh", "en"]])
@pytest.mark.parametrize("channel", CHANNELS)
def test_every_reader_gets_contents_readable_reasons_and_unicode_latex(
    channel: str, languages: list[str], day: list[dict[str, Any]]
) -> None:
    view = build_view(day, languages=languages, hostile=False)
    # The paper with LaTeX leads, and its reason names the researcher's own paper.
    rendered = CHANNELS[channel](view)
    shown = chrome_of(rendered)
    assert SEED_ID not in shown.replace(f"abs/{SEED_ID}", ""), "a seed id shown as a reason"
    assert not re.search(r"\(0\.\d\d\)|cosine|closest to", shown)
    if channel != "wecom":  # WeCom is compact: no abstracts
        assert r"\underline" not in rendered and "$" not in shown
    first_title = view.sections[0].items[0]
    contents = "目录" if languages[0] == "zh" else "Contents"
    if channel != "wecom":
        assert contents in shown
    assert str(first_title.match.percent) in shown


def test_both_reader_gets_chinese_chrome_and_both_languages_of_the_paper(
    day: list[dict[str, Any]],
) -> None:
    view = build_view(day, languages=["zh", "en"], hostile=False)
    text = _terminal(view)
    item = view.sections[0].items[0]
    assert "一句话总结" in text and "TL;DR（英文）" in text
    assert item.paper.title.split("$")[0].strip() in text
    assert item.summary is not None and (item.summary.title_zh or "") in text


@pytest.mark.parametrize(
    ("languages", "people", "updated"),
    [
        (["zh"], "你关注的人（1）", "版本更新（1 篇）"),
        (["en"], "People you follow (1)", "1 updated paper"),
    ],
)
@pytest.mark.parametrize("channel", CHANNELS)
def test_people_you_follow_come_first_and_updated_papers_last(
    channel: str, languages: list[str], people: str, updated: str, day: list[dict[str, Any]]
) -> None:
    view = build_view(day, languages=languages, hostile=False)
    followed = view.sections[-1].items[-1].paper.model_copy(update={"arxiv_id": "2510.00001"})
    sent = view.sections[0].items[0].paper.model_copy(update={"arxiv_id": "2510.00002"})
    change = TextChange(changed=True, words_added=10, sentences_added=("A new sentence.",))
    update = UpdateView(sent, 1, 2, DAY, ("model_merging",), None, change, None)
    view = replace(view, people=(PersonItem(followed, ("Kai Mei",), None),), updates=(update,))
    shown = chrome_of(CHANNELS[channel](view))
    assert people in shown and updated in shown
    heading = "模型融合（" if languages == ["zh"] else "Model merging ("
    first_topic = shown.index(heading)
    assert shown.index(people) < first_topic < shown.index(updated)
    assert "abs/2510.00001" in CHANNELS[channel](view) and "v1 → v2" in shown
