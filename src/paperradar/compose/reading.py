"""What a reader reads, channel by channel the same: titles, authors, topic hits, TL;DRs, in
the reader's language. The templates only lay these out in their markup."""

from __future__ import annotations

from dataclasses import dataclass

from paperradar.compose.digests import DigestView, ItemView, TopicSection
from paperradar.compose.reasons import Segment, hit_segments, topic_title
from paperradar.compose.updates import what_changed
from paperradar.i18n import Words, interface_language, words
from paperradar.store.states import SummaryStatus
from paperradar.text import cut, latex_to_unicode

# Authors named before "et al.".
AUTHORS_NAMED = 3
# A subject line names its top pick in at most this many characters.
SUBJECT_TITLE = 70


def has_summary(item: ItemView) -> bool:
    """Whether an item has a good summary to show."""
    return item.summary is not None and item.summary.status == SummaryStatus.OK


@dataclass(frozen=True)
class Labelled:
    """A text with the label that says which language it is in (`TL;DR` / `摘要`)."""

    label: str
    text: str


@dataclass(frozen=True)
class PersonLine:
    """A one-line entry of a side section (people you follow, updated papers)."""

    title: str
    detail: str
    arxiv_id: str


@dataclass(frozen=True)
class Reading:
    """One digest as one reader reads it: `t` is the chrome's language, `zh`/`en` the papers'."""

    view: DigestView
    t: Words
    zh: bool
    en: bool

    @classmethod
    def of(cls, view: DigestView) -> Reading:
        """The reading of a digest by the reader of its profile's languages."""
        languages = view.profile.languages
        return cls(view, words(interface_language(languages)), "zh" in languages, "en" in languages)

    def name(self) -> str:
        """Whose digest: the names of the reader's topics, in the reader's language."""
        return self.t.join(topic_title(section.topic, self.t) for section in self.view.sections)

    def counts(self) -> str:
        """The day and what it held: `10月16日 星期四 · 新论文 311 篇 · 精选 8 篇`."""
        view = self.view
        day = self.t.day(view.day)
        if not view.announced:
            return self.t("digest.no_announcement", day=day)
        if view.pick_count == 0:
            return self.t("digest.no_picks", day=day, candidates=view.candidates)
        return self.t("digest.counts", count=view.pick_count, day=day, candidates=view.candidates)

    def subject(self) -> str:
        """An e-mail subject: the day, the count and the top pick."""
        view = self.view
        day = self.t.day(view.day)
        if not view.items:
            return self.t("digest.subject_empty", product=self.t("common.product"), day=day)
        return self.t(
            "digest.subject",
            count=view.pick_count,
            product=self.t("common.product"),
            day=day,
            top=cut(self.title(view.items[0]), SUBJECT_TITLE),
        )

    def heading(self, section: TopicSection, *, continued: bool = False) -> str:
        """A topic's heading; a message that goes on with a topic says so."""
        title = topic_title(section.topic, self.t)
        if continued:
            return self.t("digest.heading_continued", topic=title)
        return self.t("digest.heading", topic=title, count=len(section.items))

    def empty(self, section: TopicSection) -> str:
        """What a topic with no picks says."""
        return self.t("digest.section_empty", percent=section.topic.min_percent)

    def title(self, item: ItemView) -> str:
        """The title in the reader's language: the Chinese one for a Chinese reader, if written."""
        if self.t.language == "zh" and has_summary(item) and item.summary and item.summary.title_zh:
            return latex_to_unicode(item.summary.title_zh)
        return latex_to_unicode(item.paper.title)

    def other_title(self, item: ItemView) -> str | None:
        """The title in the reader's other language, for a reader of both."""
        if not (self.zh and self.en) or not (has_summary(item) and item.summary):
            return None
        if self.t.language == "zh":
            return latex_to_unicode(item.paper.title)
        return latex_to_unicode(item.summary.title_zh) if item.summary.title_zh else None

    def authors(self, item: ItemView) -> str:
        """The first authors and how many more."""
        authors = item.paper.authors
        named = self.t.join(authors[:AUTHORS_NAMED])
        more = len(authors) > AUTHORS_NAMED
        return self.t("digest.authors_more", names=named, total=len(authors)) if more else named

    def affiliations(self, item: ItemView) -> str | None:
        """The authors' institutions, when a source named them."""
        return self.t.join(item.paper.affiliations) if item.paper.affiliations else None

    def hit(self, item: ItemView) -> list[Segment]:
        """The 专题命中 line of the item's own topic."""
        topic = self.view.profile.topics[item.match.topic]
        return hit_segments(item.match, topic, item.summary, self.view.titles, self.t)

    def also(self, item: ItemView) -> str | None:
        """The other topics the paper hits, with their percents."""
        topics = self.view.profile.topics
        others = [
            self.t(
                "digest.also_topic", topic=topic_title(topics[m.topic], self.t), percent=m.percent
            )
            for m in item.also
            if m.topic in topics
        ]
        return self.t("digest.also", topics=self.t.join(others)) if others else None

    def tldrs(self, item: ItemView) -> list[Labelled]:
        """The TL;DRs the reader reads, each labelled by its language."""
        summary = item.summary
        if summary is None or not has_summary(item):
            return []
        texts = [("zh", summary.tldr_zh), ("en", summary.tldr_en)]
        return [
            Labelled(self.t(f"digest.tldr_{language}"), latex_to_unicode(text))
            for language, text in texts
            if text and (self.zh if language == "zh" else self.en)
        ]

    def abstracts(self, item: ItemView) -> list[Labelled]:
        """The abstracts the reader reads: the Chinese translation and/or the original."""
        shown = []
        summary = item.summary
        if self.zh and has_summary(item) and summary and summary.abstract_zh:
            shown.append(
                Labelled(self.t("digest.abstract_zh"), latex_to_unicode(summary.abstract_zh))
            )
        if self.en or not shown:
            shown.append(
                Labelled(self.t("digest.abstract_en"), latex_to_unicode(item.paper.abstract))
            )
        return shown

    def note(self, item: ItemView) -> str | None:
        """What an item with no summary says: the same neutral line whatever the cause."""
        return None if has_summary(item) else self.t("common.summary_unavailable")

    def people(self) -> list[PersonLine]:
        """The day's papers by followed authors, first in the digest."""
        return [
            PersonLine(
                latex_to_unicode(person.paper.title),
                self.t("digest.people.followed", names=self.t.join(person.followed)),
                person.paper.arxiv_id,
            )
            for person in self.view.people
        ]

    def updates(self) -> list[PersonLine]:
        """New versions of papers this reader was sent: title, versions and what changed."""
        return [
            PersonLine(
                latex_to_unicode(update.paper.title),
                " · ".join(
                    [
                        self.t("updates.versions", old=update.old_version, new=update.new_version),
                        what_changed(update, self.t),
                    ]
                ),
                update.paper.arxiv_id,
            )
            for update in self.view.updates
        ]

    def kind(self, item: ItemView) -> str | None:
        """`updated` for a replacement, `cross-list` for a cross-list; nothing for a new paper."""
        announce = item.paper.announce_type
        if announce in ("replace", "replace-cross"):
            return self.t("digest.kind_updated", version=item.paper.version)
        if announce == "cross":
            return self.t("digest.kind_cross")
        return None
