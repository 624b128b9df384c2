from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from support.openai_api import ChatRequest, ChatServer, Reply, answer_from_rows, json_completion
from support.pdfs import one_page_pdf
from werkzeug import Response

from paperradar.app import App
from paperradar.errors import FeedError
from paperradar.llm.client import LLMClient
from paperradar.profiles.profile import Profile, Topic
from paperradar.service.pipeline import run_stage
from paperradar.settings import LLMSettings
from paperradar.store.records import Match, Paper
from paperradar.store.states import AnnounceType
from paperradar.summarise.affiliations import AffiliationDraft, first_page_text, printed_on
from paperradar.text import paper_text, text_sha

DAY = date(2025, 10, 15)
PROFILE = Profile(
    name="researcher",
    topics={"reasoning": Topic(title="LLM reasoning", description="How LLMs reason.")},
)
FIRST_PAGE = [
    "PHANTOM RECALL: When Familiar Puzzles Fool Smart Models",
    "Souradeep Mukhopadhyay (1), Chitta Baral (2)",
    "(1) Arizona State University, Tempe",
    "(2) Allen Institute for AI",
    "Abstract. Large language models (LLMs) such as GPT, Gemini, and Claude ...",
]


def test_first_page_text_reads_a_real_pdf() -> None:
    text = first_page_text(one_page_pdf(FIRST_PAGE))

    assert text.splitlines()[:4] == FIRST_PAGE[:4]


def test_bytes_that_are_no_pdf_are_a_feed_error() -> None:
    with pytest.raises(FeedError, match="unreadable PDF"):
        first_page_text(b"<html>Just a moment...</html>")


def test_only_names_printed_on_the_page_pass() -> None:
    check = printed_on("(1) Arizona State\nUniversity, Tempe (2) Allen Institute for AI")

    assert (
        check(AffiliationDraft(affiliations=["Arizona State University", "Allen Institute for AI"]))
        == []
    )
    assert check(AffiliationDraft(affiliations=["ASU", "Stanford University"])) == [
        "affiliations: 'ASU' is not printed on the page",
        "affiliations: 'Stanford University' is not printed on the page",
    ]


def paper_of(row: dict[str, Any], affiliations: list[str] | None = None) -> Paper:
    return Paper.model_validate(
        {
            "arxiv_id": row["id"],
            "title": row["title"],
            "abstract": row["summary"],
            "authors": row["authors"],
            "affiliations": affiliations or [],
            "categories": row["categories"],
            "announce_type": AnnounceType.NEW,
            "first_announced_on": DAY,
            "last_announced_on": DAY,
            "text_sha": text_sha(paper_text(row["title"], row["summary"])),
        }
    )


def pick(engine: Engine, paper: Paper) -> None:
    with Session(engine) as session:
        session.add(paper)
        session.commit()
        session.add(
            Match(
                paper_id=paper.arxiv_id,
                profile=PROFILE.name,
                topic="reasoning",
                day=DAY,
                score=0.8,
                percent=80,
                reason="closest to the topic description",
            )
        )
        session.commit()


def serve_pdf(chat_server: ChatServer, pdf: bytes) -> list[str]:
    """Serve `pdf` at /pdf/<id>; return the list the requested paths are recorded in."""
    asked: list[str] = []

    def handle(request: Any) -> Response:
        asked.append(request.path)
        return Response(pdf, content_type="application/pdf")

    chat_server.server.expect_request("/pdf/2510.11812v1").respond_with_handler(handle)
    return asked


def pdf_settings(llm_settings: LLMSettings, chat_server: ChatServer, **changes: Any) -> LLMSettings:
    return llm_settings.model_copy(
        update={
            "affiliations_from_pdf": True,
            "pdf_url": chat_server.server.url_for("/pdf/{arxiv_id}v{version}"),
            **changes,
        }
    )


def with_llm(context: App, llm: LLMSettings) -> App:
    return replace(context, profiles=(PROFILE,), llm=LLMClient(llm))


def affiliation_replies(*lists: list[str], rows: list[dict[str, Any]]) -> Any:
    """Answer summary requests from the real rows, and affiliation requests with `lists`."""
    summaries = answer_from_rows(rows)
    queue = list(lists)

    def respond(request: ChatRequest) -> Reply:
        if "<page>" in request.text("user"):
            return json_completion({"affiliations": queue.pop(0) if len(queue) > 1 else queue[0]})
        return summaries(request)

    return respond


def test_affiliations_are_read_from_the_pdf_and_a_guess_is_sent_back(
    engine: Engine,
    chat_server: ChatServer,
    llm_settings: LLMSettings,
    bilingual_day: list[dict[str, Any]],
    context: App,
) -> None:
    row = bilingual_day[0]
    pick(engine, paper_of(row))
    asked = serve_pdf(chat_server, one_page_pdf(FIRST_PAGE))
    chat_server.respond_with(
        affiliation_replies(
            ["Arizona State University", "Massachusetts Institute of Technology"],
            ["Arizona State University, Tempe", "Allen Institute for AI"],
            rows=[row],
        )
    )
    ctx = with_llm(context, pdf_settings(llm_settings, chat_server))

    report = run_stage(ctx, "summaries", DAY)

    assert asked == ["/pdf/2510.11812v1"]
    with Session(engine) as session:
        stored = session.get_one(Paper, row["id"])
    assert stored.affiliations == ["Arizona State University, Tempe", "Allen Institute for AI"]
    page_requests = [r for r in chat_server.requests if "<page>" in r.text("user")]
    assert len(page_requests) == 2
    assert "Souradeep Mukhopadhyay (1)" in page_requests[0].text("user")
    repair = page_requests[1].messages[3]["content"]
    assert "'Massachusetts Institute of Technology' is not printed on the page" in repair
    assert report.details["pdf_affiliations"] == 1
    assert report.details["calls"] == 3  # the summary, the affiliations and their repair


def test_a_model_that_keeps_guessing_leaves_affiliations_unknown(
    engine: Engine,
    chat_server: ChatServer,
    llm_settings: LLMSettings,
    bilingual_day: list[dict[str, Any]],
    context: App,
) -> None:
    row = bilingual_day[0]
    pick(engine, paper_of(row))
    serve_pdf(chat_server, one_page_pdf(FIRST_PAGE))
    chat_server.respond_with(affiliation_replies(["Stanford University"], rows=[row]))
    ctx = with_llm(context, pdf_settings(llm_settings, chat_server))

    report = run_stage(ctx, "summaries", DAY)

    with Session(engine) as session:
        assert session.get_one(Paper, row["id"]).affiliations == []
    assert report.details["summarised"] == 1
    assert "pdf_affiliations" not in report.details


@pytest.mark.parametrize("known", [None, ["Arizona State University"]])
def test_no_pdf_is_fetched_when_the_setting_is_off_or_arxiv_named_them(
    engine: Engine,
    chat_server: ChatServer,
    llm_settings: LLMSettings,
    bilingual_day: list[dict[str, Any]],
    context: App,
    known: list[str] | None,
) -> None:
    row = bilingual_day[0]
    pick(engine, paper_of(row, known))
    asked = serve_pdf(chat_server, one_page_pdf(FIRST_PAGE))
    chat_server.respond_with(answer_from_rows([row]))
    llm = pdf_settings(llm_settings, chat_server) if known else llm_settings
    ctx = with_llm(context, llm)

    run_stage(ctx, "summaries", DAY)

    assert asked == []
    assert all("<page>" not in request.text("user") for request in chat_server.requests)
    with Session(engine) as session:
        assert session.get_one(Paper, row["id"]).affiliations == (known or [])


def test_setting_is_off_by_default() -> None:
    assert LLMSettings().affiliations_from_pdf is False
    assert LLMSettings().pdf_url == "https://arxiv.org/pdf/{arxiv_id}v{version}"
