"""The archive's pages, pure: where each lives and its HTML or Atom, from values read before."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache, partial

from jinja2 import Environment

from paperradar.compose.digests import DigestView
from paperradar.compose.reading import has_summary
from paperradar.compose.reasons import Segment, evidence_segments
from paperradar.compose.rendering import format_authors, strip_control_characters
from paperradar.i18n import Language, Words, interface_language, words
from paperradar.jinja import build_environment
from paperradar.profiles.profile import Profile
from paperradar.rank.reasons import MatchReason
from paperradar.text import latex_to_unicode
from paperradar.web.archive import Archive, DayEntry, PaperDetail, PickRow
from paperradar.web.dates import calendar_months, month_label
from paperradar.web.search_index import search_words
from paperradar.web.trends import ProfileTrends

# Pages may run their own scripts and styles and nothing else; no inline code, no CDN.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "base-uri 'none'; form-action 'self'"
)
ASSETS = ("site.css", "site.js", "search.js", "favicon.svg")
FEED_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Page:
    """One file of the site: its path under the site root ('/'-separated) and its bytes."""

    path: str
    data: bytes


@dataclass(frozen=True)
class Site:
    """What every page shares: the title, the public address, the profiles shown, the LLM."""

    title: str
    base_url: str | None
    profiles: tuple[Profile, ...]
    llm_configured: bool
    feed_entries: int

    def profile(self, name: str) -> Profile | None:
        """Return the shown profile of that name."""
        return next((profile for profile in self.profiles if profile.name == name), None)

    @property
    def home(self) -> Profile | None:
        """The profile the site's own pages (search, papers) speak for: the first shown."""
        return self.profiles[0] if self.profiles else None

    @property
    def titles(self) -> dict[str, str]:
        """The titles of the profiles' own papers, which topic-hit lines name."""
        return {
            seed.id: seed.title
            for profile in self.profiles
            for seed in profile.seed_papers
            if seed.title
        }

    @property
    def languages(self) -> tuple[Language, ...]:
        """The languages of paper text the site shows: every language a shown profile reads."""
        shown = {language for profile in self.profiles for language in profile.languages}
        return tuple(language for language in ("zh", "en") if language in shown) or ("zh", "en")


def day_path(profile: str, day: date) -> str:
    """Where a profile's digest of a day lives."""
    return f"{profile}/{day.isoformat()}.html"


def topic_path(profile: str, key: str, suffix: str = "html") -> str:
    """Where a topic's page (or, with suffix 'atom', its feed) lives."""
    return f"{profile}/topics/{key}.{suffix}"


def paper_path(arxiv_id: str) -> str:
    """Where a paper's page lives (old-style ids like cs/0112017 lose their slash)."""
    return f"papers/{arxiv_id.replace('/', '_')}.html"


def _rfc3339(moment: datetime) -> str:
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.strftime("%Y-%m-%dT%H:%M:%SZ")


def _feed_id(*parts: str) -> str:
    # Stable whatever address the site moves to, unlike an id made from a URL.
    return uuid.uuid5(uuid.NAMESPACE_URL, "paperradar:" + ":".join(parts)).urn


@cache
def _environment() -> Environment:
    environment = build_environment(
        "templates/web",
        autoescape=True,
        # One control character makes an Atom feed invalid XML, and readers drop it whole.
        finalize=strip_control_characters,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["latex"] = latex_to_unicode
    environment.filters["evidence"] = _evidence
    environment.globals.update(
        authors=format_authors,
        ok=has_summary,
        day_path=day_path,
        topic_path=topic_path,
        paper_path=paper_path,
        rfc3339=_rfc3339,
        feed_id=_feed_id,
        csp=CONTENT_SECURITY_POLICY,
    )
    return environment


def _evidence(stored: str, t: Words, titles: Mapping[str, str]) -> list[Segment]:
    """A stored match reason in the reader's words: phrases found, the paper it is close to."""
    return evidence_segments(MatchReason.load(stored), titles, t)


def _words_of(site: Site, profile: Profile | None) -> Words:
    """The words of a profile's pages; of the site's own pages, its first profile's."""
    home = profile or site.home
    return words(interface_language(home.languages if home else site.languages))


def _render(
    site: Site, template: str, path: str, profile: Profile | None, **variables: object
) -> Page:
    """Render a page in the words of `profile` (of the site's first profile when None)."""
    root = "../" * path.count("/")
    home = profile or site.home
    languages = tuple(profile.languages) if profile else site.languages
    t = _words_of(site, profile)
    text = (
        _environment()
        .get_template(template)
        .render(
            site=site,
            root=root,
            t=t,
            home=home,
            profile=profile,
            show_zh="zh" in languages,
            show_en="en" in languages,
            month_label=partial(month_label, t),
            **variables,
        )
    )
    return Page(path, text.encode("utf-8"))


def render_day(site: Site, view: DigestView, days: Sequence[DayEntry]) -> Page:
    """Render a profile's digest of one day, with links to the days before and after."""
    shown = [entry.day for entry in days]
    at = shown.index(view.day) if view.day in shown else None
    before = shown[at - 1] if at else None
    after = shown[at + 1] if at is not None and at + 1 < len(shown) else None
    path = day_path(view.profile.name, view.day)
    return _render(site, "day.html.j2", path, view.profile, view=view, before=before, after=after)


def render_index(
    site: Site,
    profile: Profile,
    *,
    latest: DigestView | None,
    archive: Archive,
    trends: ProfileTrends,
    at_root: bool,
) -> Page:
    """Render a profile's front page: its latest digest, the calendar of past days, trends."""
    entries = archive.days.get(profile.name, ())
    path = "index.html" if at_root else f"{profile.name}/index.html"
    return _render(
        site,
        "index.html.j2",
        path,
        profile,
        view=latest,
        entries={entry.day: entry for entry in entries},
        months=calendar_months(entries, _words_of(site, profile)),
        trends=trends,
        keywords_since=archive.keywords_since,
    )


def topic_month_path(profile: str, key: str, month: str) -> str:
    """Where a topic's picks of one month (YYYY-MM) live."""
    return f"{profile}/topics/{key}/{month}.html"


def picks_by_month(picks: Sequence[PickRow]) -> dict[str, list[PickRow]]:
    """Group picks (newest first) by month, newest month first."""
    months: dict[str, list[PickRow]] = {}
    for pick in picks:
        months.setdefault(pick.day.strftime("%Y-%m"), []).append(pick)
    return months


def render_topic(
    site: Site,
    profile: Profile,
    key: str,
    *,
    months: dict[str, list[PickRow]],
    trends: ProfileTrends,
    keywords_since: date,
) -> Page:
    """Render a topic's page: its trend, recent keywords, its months and the newest month."""
    return _render(
        site,
        "topic.html.j2",
        topic_path(profile.name, key),
        profile,
        key=key,
        topic=profile.topics[key],
        months=months,
        chart=trends.charts[key],
        keywords=trends.keywords[key],
        keywords_since=keywords_since,
    )


def render_topic_month(
    site: Site, profile: Profile, key: str, month: str, picks: Sequence[PickRow]
) -> Page:
    """Render a topic's picks of one month, newest first."""
    return _render(
        site,
        "topic_month.html.j2",
        topic_month_path(profile.name, key, month),
        profile,
        key=key,
        topic=profile.topics[key],
        month=month,
        picks=picks,
    )


def render_paper(site: Site, detail: PaperDetail, picks: Sequence[PickRow]) -> Page:
    """Render a paper's page: both languages, each pick's reasons, the topics it also matches."""
    picked = {(pick.profile, pick.topic) for pick in picks}
    also = [
        match
        for match in detail.matches
        if (match.profile, match.topic) not in picked
        and (profile := site.profile(match.profile)) is not None
        and match.topic in profile.topics
        and match.percent >= profile.topics[match.topic].min_percent
    ]
    return _render(
        site,
        "paper.html.j2",
        paper_path(detail.paper.arxiv_id),
        None,
        paper=detail.paper,
        summary=detail.summary,
        picks=picks,
        also=also,
    )


def render_search(site: Site, shards: Sequence[str]) -> Page:
    """Render the search page, loading the index shards (YYYY-MM, newest first)."""
    language = _words_of(site, None).language
    return _render(
        site,
        "search.html.j2",
        "search.html",
        None,
        shards=shards,
        search_words=search_words(language),
    )


def render_feed(site: Site, profile: Profile, key: str | None, picks: Sequence[PickRow]) -> Page:
    """Render the Atom feed of a profile's picks (or one topic's), newest first."""
    if key is None:
        path, page = f"{profile.name}/feed.atom", f"{profile.name}/index.html"
    else:
        path, page = topic_path(profile.name, key, "atom"), topic_path(profile.name, key)
    # A feed's date is its newest entry's, so rebuilding an unchanged feed changes no byte.
    updated = max((pick.composed_at for pick in picks), default=FEED_EPOCH)
    return _render(
        site,
        "feed.atom.j2",
        path,
        profile,
        key=key,
        picks=picks,
        updated=updated,
        self_path=path,
        page_path=page,
    )
