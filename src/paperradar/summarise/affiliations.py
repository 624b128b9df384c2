"""Affiliations from a paper's PDF: pypdf reads the first page, the LLM lists what it prints."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable

import httpx
from pydantic import BaseModel, ConfigDict, Field
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from paperradar.errors import FeedError, SourceUnavailableError
from paperradar.llm.client import LLMClient, RejectedReplyError, Usage
from paperradar.llm.prompts import Prompt, neutralise_fence, render_messages
from paperradar.store.records import Paper

logger = logging.getLogger(__name__)

# The affiliations sit at the top of the first page; the rest of it is not worth the tokens.
PAGE_CHARACTERS = 4000


class AffiliationDraft(BaseModel):
    """The institutions a paper's first page prints."""

    model_config = ConfigDict(extra="forbid")

    affiliations: list[str] = Field(
        description="Each institution exactly as printed on the page, once, in order of first "
        "appearance; an empty list when the page prints none."
    )


def _flat(text: str) -> str:
    return " ".join(text.split())


def first_page_text(pdf: bytes) -> str:
    """Return the text of a PDF's first page ("" for a PDF without pages)."""
    try:
        reader = PdfReader(io.BytesIO(pdf))
        return reader.pages[0].extract_text() if reader.pages else ""
    except PyPdfError as error:
        raise FeedError(f"unreadable PDF ({error})") from error


def printed_on(page_text: str) -> Callable[[AffiliationDraft], list[str]]:
    """Return a check that names every listed institution the page does not print."""
    page = _flat(page_text)

    def check(draft: AffiliationDraft) -> list[str]:
        return [
            f"affiliations: {name!r} is not printed on the page"
            for name in draft.affiliations
            if _flat(name) not in page
        ]

    return check


def download_pdf(url: str, *, timeout_seconds: float) -> bytes:
    """Fetch one PDF."""
    try:
        response = httpx.get(url, timeout=timeout_seconds, follow_redirects=True)
        response.raise_for_status()
    except httpx.HTTPError as error:
        raise SourceUnavailableError(f"cannot fetch {url}: {error}") from error
    return response.content


def extract_affiliations(
    llm: LLMClient, prompt: Prompt, *, paper: Paper, pdf: bytes
) -> tuple[list[str], Usage]:
    """List the institutions a PDF's first page prints, each verbatim; never a guess."""
    text = first_page_text(pdf)[:PAGE_CHARACTERS]
    if not text.strip():
        return [], Usage()
    system, user = render_messages(
        prompt, {"title": _flat(paper.title), "page": neutralise_fence(text, "page")}
    )
    completion = llm.complete_json(system, user, AffiliationDraft, check=printed_on(text))
    names = dict.fromkeys(_flat(name) for name in completion.value.affiliations)
    return [name for name in names if name], completion.usage


def read_affiliations(llm: LLMClient, prompt: Prompt, paper: Paper) -> tuple[list[str], Usage]:
    """Download a paper's PDF and extract its affiliations; a failure leaves them unknown."""
    url = llm.settings.pdf_url.format(arxiv_id=paper.arxiv_id, version=paper.version)
    try:
        pdf = download_pdf(url, timeout_seconds=llm.settings.timeout_seconds)
        return extract_affiliations(llm, prompt, paper=paper, pdf=pdf)
    except RejectedReplyError as error:
        logger.warning("affiliations of %s unknown: %s", paper.arxiv_id, error)
        return [], error.usage
    except (FeedError, SourceUnavailableError) as error:
        logger.warning("affiliations of %s unknown: %s", paper.arxiv_id, error)
        return [], Usage()
