"""Render digests through the Jinja2 templates (pure: values in, text out)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

from jinja2 import Environment, select_autoescape
from markupsafe import Markup

from paperradar.compose.digests import DigestView
from paperradar.compose.reading import Reading, has_summary
from paperradar.jinja import Autoescape, build_environment
from paperradar.text import clean_text, latex_to_unicode

# A web address in free text (a paper's comments): linked where the channel allows.
URL = re.compile(r"https?://[^\s<>()\[\]{}\"'`…]+[^\s<>()\[\]{}\"'`….,;:!?]")

AUTHORS_SHOWN = 6


def format_authors(authors: Sequence[str]) -> str:
    """Show the first authors and how many more there are."""
    shown = ", ".join(authors[:AUTHORS_SHOWN])
    extra = len(authors) - AUTHORS_SHOWN
    return f"{shown}, … (+{extra})" if extra > 0 else shown


def strip_control_characters(value: object) -> object:
    """Drop control and bidi-override characters from text a template shows (a `finalize`).

    Paper text is cleaned when it is parsed; rows stored before that, and text from other
    sources, are cleaned here. Markup stays markup: removing characters opens no tag.
    """
    if isinstance(value, Markup):
        return Markup(clean_text(str(value)))
    if isinstance(value, str):
        return clean_text(value)
    return value


def url_spans(text: str) -> list[tuple[str, bool]]:
    """Split text into `(piece, is_url)` spans, so a template can link the web addresses."""
    spans: list[tuple[str, bool]] = []
    end = 0
    for found in URL.finditer(text):
        spans.append((text[end : found.start()], False))
        spans.append((found.group(), True))
        end = found.end()
    spans.append((text[end:], False))
    return [span for span in spans if span[0]]


def digest_environment(
    *,
    autoescape: Autoescape,
    finalize: Callable[[Any], Any] | None = None,
    **options: Any,
) -> Environment:
    """Build an environment for digest templates, with the helpers every one of them uses."""
    environment = build_environment(autoescape=autoescape, finalize=finalize, **options)
    environment.globals.update(authors=format_authors, ok=has_summary)
    environment.filters.update(latex=latex_to_unicode, urls=url_spans)
    return environment


@cache
def _environment(for_terminal: bool) -> Environment:
    return digest_environment(
        autoescape=select_autoescape(["html.j2"]),
        keep_trailing_newline=True,
        finalize=strip_control_characters if for_terminal else None,
    )


def template_variables(view: DigestView) -> dict[str, object]:
    """Return the variables every digest template receives: `r` reads it in the reader's words."""
    reading = Reading.of(view)
    return {
        "view": view,
        "r": reading,
        "t": reading.t,
        "show_zh": reading.zh,
        "show_en": reading.en,
    }


def render_template(template: str, view: DigestView, **extra: object) -> str:
    """Render a digest template: `*.html.j2` autoescaped, `*.txt.j2` without control characters."""
    environment = _environment(for_terminal=template.endswith(".txt.j2"))
    variables = template_variables(view) | extra
    return environment.get_template(template).render(variables)


def render_text(view: DigestView) -> str:
    """Render a digest for the terminal."""
    return render_template("digest.txt.j2", view)


def _cut(text: str, *, limit: int, size: Callable[[str], int]) -> tuple[str, str]:
    """Split off the longest head within `limit`, preferring a line break, then a space."""
    low, high = 1, len(text)
    while low < high:  # the longest prefix that fits: `size` grows with the prefix
        middle = (low + high + 1) // 2
        low, high = (middle, high) if size(text[:middle]) <= limit else (low, middle - 1)
    head = text[:low]
    for boundary in ("\n", " "):
        at = head.rfind(boundary)
        if at > len(head) // 2:
            return head[:at], text[at + 1 :]
    return head, text[low:]


def pack_blocks(
    blocks: Sequence[str], *, limit: int, size: Callable[[str], int] = len, separator: str = "\n\n"
) -> list[str]:
    """Pack blocks (items) into as few parts as fit `limit`, never splitting a block that fits.

    A block that alone exceeds the limit is cut at a line break or space where one is near the
    end, else on a character boundary (so never inside a UTF-8 sequence when `size` counts
    bytes). `size` measures a part in the platform's unit: characters, UTF-8 bytes, ...
    """
    pieces: list[str] = []
    for block in filter(None, blocks):
        while size(block) > limit:
            head, block = _cut(block, limit=limit, size=size)
            pieces.append(head)
        pieces.append(block)
    parts: list[str] = []
    for piece in pieces:
        joined = f"{parts[-1]}{separator}{piece}" if parts else piece
        if parts and size(joined) <= limit:
            parts[-1] = joined
        else:
            parts.append(piece)
    return parts
