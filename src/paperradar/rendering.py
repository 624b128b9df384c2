"""Render a DigestView as terminal text or a standalone HTML page (pure: values in, text out)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from paperradar.digests import DigestView, ItemView
from paperradar.records import SummaryStatus

AUTHORS_SHOWN = 6
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def format_authors(authors: Sequence[str]) -> str:
    """Show the first authors and how many more there are."""
    shown = ", ".join(authors[:AUTHORS_SHOWN])
    extra = len(authors) - AUTHORS_SHOWN
    return f"{shown}, … (+{extra})" if extra > 0 else shown


def has_summary(item: ItemView) -> bool:
    """Whether an item has a good summary to show."""
    return item.summary is not None and item.summary.status == SummaryStatus.OK


def strip_control_characters(value: object) -> object:
    """Drop control characters (terminal escape sequences) from text shown in a terminal."""
    if isinstance(value, str):
        return CONTROL_CHARACTERS.sub("", value)
    return value


@cache
def _environment(for_terminal: bool) -> Environment:
    environment = Environment(
        loader=PackageLoader("paperradar", "templates"),
        autoescape=select_autoescape(["html.j2"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        finalize=strip_control_characters if for_terminal else None,
    )
    environment.globals.update(authors=format_authors, ok=has_summary)
    return environment


def _render(template: str, view: DigestView, *, llm_configured: bool) -> str:
    languages = view.profile.languages
    environment = _environment(for_terminal=template.endswith(".txt.j2"))
    return environment.get_template(template).render(
        view=view,
        llm_configured=llm_configured,
        show_zh="zh" in languages,
        show_en="en" in languages,
    )


def render_text(view: DigestView, *, llm_configured: bool) -> str:
    """Render a digest for the terminal."""
    return _render("digest.txt.j2", view, llm_configured=llm_configured)


def render_html(view: DigestView, *, llm_configured: bool) -> str:
    """Render a digest as a standalone, escaped HTML page."""
    return _render("digest.html.j2", view, llm_configured=llm_configured)
