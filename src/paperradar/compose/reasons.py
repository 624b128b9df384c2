"""The 专题命中 (topic hit) line: why a pick matched, in the reader's words, with no numbers.

A line names the topic in the reader's language, then the evidence a reader can check: the
phrases found in the paper, the researcher's own paper it is close to (linked), the paper the
readers 👍'd that it is like. When the LLM wrote why the paper hits the topic, that sentence is
the evidence instead. Renderers get segments (text, or a link) and write them in their markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from paperradar.i18n import Words
from paperradar.profiles.profile import Topic
from paperradar.rank.reasons import MatchReason
from paperradar.store.records import Match, Summary
from paperradar.store.states import SummaryStatus
from paperradar.text import cut, latex_to_unicode

ABS_URL = "https://arxiv.org/abs/{}"
# A named paper's title is shortened to its name before a colon, or to this many characters.
SHORT_TITLE = 48


@dataclass(frozen=True)
class Segment:
    """A piece of a line: plain text, or text linked to `url`."""

    text: str
    url: str | None = None


def topic_title(topic: Topic, words: Words) -> str:
    """A topic's title in the reader's language (the English one when it has no Chinese)."""
    return topic.title_zh if words.language == "zh" and topic.title_zh else topic.title


def short_title(title: str) -> str:
    """A paper's name as a reader says it: `EvoAgent` for `EvoAgent: Towards …`."""
    title = latex_to_unicode(" ".join(title.split()))
    head, colon, _ = title.partition(":")
    if colon and 2 <= len(head) <= SHORT_TITLE:
        return head
    return cut(title, SHORT_TITLE)


def _llm_why(summary: Summary | None, topic_key: str, words: Words) -> str | None:
    if summary is None or summary.status != SummaryStatus.OK:
        return None
    why = summary.why_by_topic.get(topic_key)
    if why is None:
        return None
    return why.get(words.language, "").strip() or None


def _paper(key: str, paper_id: str, titles: Mapping[str, str], words: Words) -> list[Segment]:
    title = titles.get(paper_id)
    before, _, after = words(key, title="\0").partition("\0")
    name = words("digest.reason.quoted", title=short_title(title)) if title else paper_id
    return [Segment(before), Segment(name, ABS_URL.format(paper_id)), Segment(after)]


def evidence_segments(
    reason: MatchReason | None, titles: Mapping[str, str], words: Words
) -> list[Segment]:
    """The evidence of a stored reason in words; a reason stored as plain text says nothing."""
    parts: list[list[Segment]] = []
    if reason is not None and reason.phrases:
        quoted = words.join(words("digest.reason.phrase", phrase=p) for p in reason.phrases)
        parts.append([Segment(words("digest.reason.phrases", phrases=quoted))])
    if reason is not None and reason.seed:
        parts.append(_paper("digest.reason.seed", reason.seed, titles, words))
    if reason is not None and reason.liked:
        parts.append(_paper("digest.reason.liked", reason.liked, titles, words))
    elif reason is not None and reason.votes:
        parts.append([Segment(words("digest.reason.votes"))])
    if not parts:
        parts.append([Segment(words("digest.reason.description"))])
    segments: list[Segment] = []
    for index, part in enumerate(parts):
        if index:
            segments.append(Segment(words("digest.reason.separator")))
        segments.extend(part)
    return [segment for segment in segments if segment.text]


def hit_segments(
    match: Match,
    topic: Topic,
    summary: Summary | None,
    titles: Mapping[str, str],
    words: Words,
) -> list[Segment]:
    """The whole line: `模型融合 · 命中关键词「model merging」；与你的论文《X》相近`."""
    head = Segment(words("digest.reason.topic", topic=topic_title(topic, words)))
    why = _llm_why(summary, match.topic, words)
    if why:
        return [head, Segment(why)]
    return [head, *evidence_segments(MatchReason.load(match.reason), titles, words)]


def plain(segments: list[Segment]) -> str:
    """A line's text without its links (for plain-text channels)."""
    return "".join(segment.text for segment in segments)
