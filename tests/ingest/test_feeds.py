import dataclasses
import gzip
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine
from sqlmodel import Session, func, select
from support.arxiv_server import rss_path, rss_settings, with_arxiv

from paperradar.app import App
from paperradar.errors import FeedError, SourceUnavailableError
from paperradar.ingest import fetch
from paperradar.ingest.announcement import Announcement
from paperradar.ingest.feeds import parse_feed
from paperradar.ingest.papers import store_announcements, store_reference_papers
from paperradar.service.pipeline import run_stage
from paperradar.settings import ArxivSettings
from paperradar.store.db import session_scope
from paperradar.store.records import FeedDay, Paper
from paperradar.store.states import AnnounceType, DayStatus
from paperradar.text import paper_text, text_sha

LAYA = "trimmed_cs.LG+cs.AI+cs.CL+stat.ML_2026-09-24_4items.xml"
LAYA_DAY = date(2026, 9, 24)
CORPUS = "corpus_cs_cl_lg_ai_2025-09_2025-10.jsonl"
# The corpus copy in tests/fixtures keeps 309 of the 3,618 real papers (SOURCES.md says which).
CORPUS_PAPERS, CORPUS_FIRST_LISTED_CS_CV, CORPUS_2025_10_15 = 309, 39, 115
# Expected per SOURCES.md: file -> (papers, types)
RSS_FILES = {
    LAYA: {"new": 2, "cross": 1, "replace": 1},
    "trimmed_cs.CL_2026-04-27_3items.xml": {"new": 3},
    "trimmed_cs.LG_2026-04-27_3items.xml": {"new": 3},
    "trimmed_cs.AI_2026-04-27_3items.xml": {"new": 3},
}
API_FILES = {
    "empty_result_id_0000.0000": 0,
    "idlist_0808.05394_1707.08567_one_missing": 1,
    "idlist_2104.12255v1_title_is_0": 1,
    "idlist_old_style_astro-ph_0601001": 1,
    "legacy2016_idlist_1111.2011v2": 1,
    "legacy2016_query_au-del_maestro_max10": 10,
    "query_all-testing_start0_max10": 10,
    "query_all-testing_start10_max10": 10,
    "query_all-testing_start0_max100": 100,
}


def read(arxiv_fixtures: Path, folder: str, name: str) -> bytes:
    return (arxiv_fixtures / folder / name).read_bytes()


def types_of(announcements: tuple[Announcement, ...]) -> dict[str, int]:
    return dict(Counter(announcement.announce_type.value for announcement in announcements))


def count(engine: Engine, table: type[Paper] | type[FeedDay]) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(table)).one()


def paper(engine: Engine, arxiv_id: str) -> Paper:
    with Session(engine) as session:
        row = session.get(Paper, arxiv_id)
        assert row is not None
        return row


def feed_day(engine: Engine, day: date) -> FeedDay | None:
    with Session(engine) as session:
        return session.get(FeedDay, day)


# ---- parsing --------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "types"), RSS_FILES.items())
def test_every_rss_fixture_parses_with_its_announce_types(
    arxiv_fixtures: Path, name: str, types: dict[str, int]
) -> None:
    feed = parse_feed(read(arxiv_fixtures, "rss", name), source=name)
    assert types_of(feed.announcements) == types
    assert feed.announced_on == date.fromisoformat(re.findall(r"\d{4}-\d\d-\d\d", name)[0])
    for announcement in feed.announcements:
        assert announcement.announced_on == feed.announced_on
        assert announcement.title and announcement.authors and announcement.categories
        assert not announcement.abstract.lower().startswith(("arxiv:", "abstract"))
        assert "Announce Type" not in announcement.abstract


def test_rss_item_carries_id_version_doi_and_primary_category_first(arxiv_fixtures: Path) -> None:
    feed = parse_feed(read(arxiv_fixtures, "rss", LAYA))
    by_id = {announcement.arxiv_id: announcement for announcement in feed.announcements}
    assert list(by_id) == ["2609.26811", "2609.26820", "2205.06398", "2009.13987"]
    cross, replaced = by_id["2205.06398"], by_id["2009.13987"]
    assert cross.announce_type is AnnounceType.CROSS
    assert cross.version == 2
    assert cross.doi == "10.1093/bioinformatics/btac431"
    assert cross.categories == ("stat.ME", "stat.AP", "stat.ML")
    assert cross.authors == ("Pritam Dey", "Zhengwu Zhang", "David B. Dunson")
    assert cross.abstract.startswith("It has become routine in neuroscience")
    assert replaced.announce_type is AnnounceType.REPLACE
    assert replaced.version == 3
    assert by_id["2609.26811"].doi is None


def test_rss_creator_list_with_blank_gaps_splits_into_names(arxiv_fixtures: Path) -> None:
    feed = parse_feed(read(arxiv_fixtures, "rss", "trimmed_cs.CL_2026-04-27_3items.xml"))
    assert feed.announcements[0].authors == (
        "Anamta Khan",
        "Ratna Kandala",
        "Deepti",
        "Sheza Munir",
        "Joyojeet Pal",
    )


@pytest.mark.parametrize(("stem", "papers"), API_FILES.items())
def test_every_api_atom_fixture_parses(arxiv_fixtures: Path, stem: str, papers: int) -> None:
    feed = parse_feed(read(arxiv_fixtures, "api", f"{stem}.atom.xml"), source=stem)
    assert len(feed.announcements) == papers
    for announcement in feed.announcements:
        expected = AnnounceType.NEW if announcement.version == 1 else AnnounceType.REPLACE
        assert announcement.announce_type is expected
        assert announcement.title == " ".join(announcement.title.split())
        assert announcement.abstract == " ".join(announcement.abstract.split())
        assert announcement.categories


def test_api_title_that_is_literally_zero_survives(arxiv_fixtures: Path) -> None:
    feed = parse_feed(read(arxiv_fixtures, "api", "idlist_2104.12255v1_title_is_0.atom.xml"))
    (announcement,) = feed.announcements
    assert announcement.title == "0"
    assert announcement.arxiv_id == "2104.12255"
    assert announcement.announced_on == date(2021, 4, 20)
    assert announcement.categories == ("cs.CR",)


def test_legacy_api_hard_wrapped_text_collapses(arxiv_fixtures: Path) -> None:
    feed = parse_feed(read(arxiv_fixtures, "api", "legacy2016_idlist_1111.2011v2.atom.xml"))
    (announcement,) = feed.announcements
    assert announcement.title == (
        "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
    )
    assert announcement.abstract.startswith("Theoretical description of anisotropic systems, such")
    assert "\n" not in announcement.abstract
    assert (announcement.arxiv_id, announcement.version) == ("1111.2011", 2)
    assert announcement.announce_type is AnnounceType.REPLACE
    assert announcement.doi == "10.1103/PhysRevB.85.115117"
    assert announcement.journal_ref == "Phys. Rev. B 85, 115117 (2012)"
    assert announcement.comment == "8 pages, 3 figures. Published version"
    assert announcement.categories == ("cond-mat.str-el", "cond-mat.stat-mech")


def test_old_style_id_is_kept_whole(arxiv_fixtures: Path) -> None:
    data = read(arxiv_fixtures, "api", "idlist_old_style_astro-ph_0601001.atom.xml")
    (announcement,) = parse_feed(data).announcements
    assert (announcement.arxiv_id, announcement.version) == ("astro-ph/0601001", 1)


def test_api_error_feed_raises_feed_error_with_arxivs_message(arxiv_fixtures: Path) -> None:
    data = read(arxiv_fixtures, "api", "error_400_incorrect_id_format_abc.atom.xml")
    with pytest.raises(FeedError, match="incorrect id format for abc"):
        parse_feed(data)


def test_api_empty_result_has_no_announcements_and_no_day(arxiv_fixtures: Path) -> None:
    feed = parse_feed(read(arxiv_fixtures, "api", "empty_result_id_0000.0000.atom.xml"))
    assert feed.announcements == ()
    assert feed.announced_on is None


def test_corpus_jsonl_parses_with_types_from_home_categories(arxiv_fixtures: Path) -> None:
    feed = parse_feed(read(arxiv_fixtures, "corpus", CORPUS), source=CORPUS)
    assert len(feed.announcements) == CORPUS_PAPERS
    assert len({announcement.announced_on for announcement in feed.announcements}) == 10
    assert feed.announced_on == date(2025, 10, 17)
    for announcement in feed.announcements[:200]:
        home = announcement.categories[0] in {"cs.CL", "cs.LG", "cs.AI"}
        assert announcement.announce_type is (AnnounceType.NEW if home else AnnounceType.CROSS)
    only_vision = parse_feed(read(arxiv_fixtures, "corpus", CORPUS), home_categories={"cs.CV"})
    assert types_of(only_vision.announcements)["new"] == CORPUS_FIRST_LISTED_CS_CV


def test_gzipped_dev_pool_parses(fixtures_dir: Path) -> None:
    # The first 200 lines of the development set's dev_pool.jsonl.gz, gzipped again.
    feed = parse_feed((fixtures_dir / "bench" / "dev_pool_sample.jsonl.gz").read_bytes())
    assert len(feed.announcements) == 200
    assert all(announcement.comment is None for announcement in feed.announcements[:100])


def test_corrupt_jsonl_line_raises_feed_error_naming_the_line(arxiv_fixtures: Path) -> None:
    lines = read(arxiv_fixtures, "corpus", CORPUS).splitlines(keepends=True)[:3]
    broken = b"".join([*lines, lines[0][:50] + b"\n"])
    with pytest.raises(FeedError, match=r"corpus\.jsonl: line 4: invalid JSON"):
        parse_feed(broken, source="corpus.jsonl")
    with pytest.raises(FeedError, match="line 4"):
        parse_feed(gzip.compress(broken), source="corpus.jsonl.gz")


def test_jsonl_missing_field_raises_but_a_title_of_zero_is_not_missing(
    arxiv_fixtures: Path,
) -> None:
    first = read(arxiv_fixtures, "corpus", CORPUS).splitlines()[0]
    without_abstract = re.sub(rb'"abstract": "(?:[^"\\]|\\.)*", ', b"", first)
    with pytest.raises(FeedError, match=r"line 1: missing field\(s\) abstract"):
        parse_feed(without_abstract)
    title_zero = re.sub(rb'"title": "(?:[^"\\]|\\.)*"', b'"title": "0"', first)
    assert parse_feed(title_zero).announcements[0].title == "0"


def test_duplicate_papers_in_one_feed_are_kept_once(arxiv_fixtures: Path) -> None:
    lines = read(arxiv_fixtures, "corpus", CORPUS).splitlines(keepends=True)
    feed = parse_feed(b"".join([lines[0], lines[1], lines[0]]))
    assert len(feed.announcements) == 2


@pytest.mark.parametrize("cut", [0.5, 0.99])
def test_truncated_xml_raises_feed_error(arxiv_fixtures: Path, cut: float) -> None:
    data = read(arxiv_fixtures, "rss", LAYA)
    with pytest.raises(FeedError, match="not well-formed XML"):
        parse_feed(data[: int(len(data) * cut)])


@pytest.mark.parametrize("data", [b"", b"  \n", b"<html><body>Service busy</body></html>"])
def test_empty_or_foreign_bytes_raise_feed_error(data: bytes) -> None:
    with pytest.raises(FeedError):
        parse_feed(data)


# ---- storing ------------------------------------------------------------------------------


def test_new_and_cross_become_candidates_and_an_unknown_replace_does_not(
    arxiv_fixtures: Path, engine: Engine
) -> None:
    feed = parse_feed(read(arxiv_fixtures, "rss", LAYA))
    with Session(engine) as session:
        counts = store_announcements(session, feed.announcements, day=LAYA_DAY)
        session.commit()
    assert (counts.inserted, counts.updated) == (4, 0)
    with Session(engine) as session:
        candidates = session.exec(
            select(Paper.arxiv_id).where(Paper.first_announced_on == LAYA_DAY)
        ).all()
    assert sorted(candidates) == ["2205.06398", "2609.26811", "2609.26820"]
    replaced = paper(engine, "2009.13987")
    assert replaced.first_announced_on is None
    assert replaced.last_announced_on == LAYA_DAY
    assert replaced.version == 3
    cross = paper(engine, "2205.06398")
    assert cross.announce_type is AnnounceType.CROSS
    assert cross.doi == "10.1093/bioinformatics/btac431"
    assert cross.text_sha == text_sha(paper_text(cross.title, cross.abstract))


def test_replacement_updates_the_paper_in_place(arxiv_fixtures: Path, engine: Engine) -> None:
    feed = parse_feed(read(arxiv_fixtures, "rss", LAYA))
    replacement = feed.announcements[3]
    earlier = dataclasses.replace(
        replacement,
        version=2,
        announce_type=AnnounceType.NEW,
        abstract=replacement.abstract.split(". ")[0] + ".",
        announced_on=date(2026, 9, 1),
    )
    with Session(engine) as session:
        store_announcements(session, [earlier], day=date(2026, 9, 1))
        session.commit()
    before = paper(engine, replacement.arxiv_id)
    with Session(engine) as session:
        counts = store_announcements(session, feed.announcements, day=LAYA_DAY)
        session.commit()
    assert (counts.inserted, counts.updated) == (3, 1)
    after = paper(engine, replacement.arxiv_id)
    assert after.version == 3
    assert after.abstract == replacement.abstract
    assert after.text_sha == replacement.text_sha != before.text_sha
    assert after.first_announced_on == date(2026, 9, 1)
    assert after.last_announced_on == LAYA_DAY
    assert after.announce_type is AnnounceType.NEW
    assert count(engine, Paper) == 4


def test_paper_announced_on_an_earlier_day_is_not_a_candidate_again(
    arxiv_fixtures: Path, engine: Engine
) -> None:
    (first,) = parse_feed(read(arxiv_fixtures, "corpus", CORPUS).splitlines()[0]).announcements
    later_cross = dataclasses.replace(
        first, announce_type=AnnounceType.CROSS, announced_on=date(2025, 10, 20)
    )
    with Session(engine) as session:
        store_announcements(session, [first], day=first.announced_on)
        session.commit()
    with Session(engine) as session:
        store_announcements(session, [later_cross], day=date(2025, 10, 20))
        session.commit()
    stored = paper(engine, first.arxiv_id)
    assert stored.first_announced_on == first.announced_on
    assert stored.last_announced_on == date(2025, 10, 20)


def test_seed_paper_becomes_a_candidate_when_announced(
    arxiv_fixtures: Path, engine: Engine
) -> None:
    (announcement,) = parse_feed(
        read(arxiv_fixtures, "corpus", CORPUS).splitlines()[0]
    ).announcements
    with Session(engine) as session:
        store_reference_papers(session, [announcement])
        session.commit()
    assert paper(engine, announcement.arxiv_id).first_announced_on is None
    assert paper(engine, announcement.arxiv_id).announce_type is None
    with Session(engine) as session:
        counts = store_announcements(session, [announcement], day=announcement.announced_on)
        session.commit()
    assert counts.updated == 1
    assert paper(engine, announcement.arxiv_id).first_announced_on == announcement.announced_on


# ---- run: a feed file ------------------------------------------------------------------------


def file_context(context: App, path: Path) -> App:
    return with_arxiv(context, ArxivSettings(feed_file=path))


def test_run_stores_one_day_of_a_multi_day_file(arxiv_fixtures: Path, context: App) -> None:
    ctx = file_context(context, arxiv_fixtures / "corpus" / CORPUS)
    day = date(2025, 10, 15)
    report = run_stage(ctx, "fetch", day)
    assert report.details["new"] + report.details["cross"] == CORPUS_2025_10_15
    assert report.written == CORPUS_2025_10_15 + 1
    assert report.note is None
    assert count(context.engine, Paper) == CORPUS_2025_10_15
    row = feed_day(context.engine, day)
    assert row is not None
    assert (row.status, row.source) == (DayStatus.ANNOUNCED, "file")
    assert row.new_count + row.cross_count == CORPUS_2025_10_15
    assert row.raw_path == str(arxiv_fixtures / "corpus" / CORPUS)


def test_rerunning_a_day_writes_nothing(arxiv_fixtures: Path, context: App) -> None:
    ctx = file_context(context, arxiv_fixtures / "corpus" / CORPUS)
    day = date(2025, 10, 16)
    run_stage(ctx, "fetch", day)
    with Session(context.engine) as session:
        stamps = sorted(session.exec(select(Paper.arxiv_id, Paper.updated_at)).all())
    fetched_at = feed_day(context.engine, day).fetched_at  # type: ignore[union-attr]
    again = run_stage(ctx, "fetch", day)
    assert again.written == 0
    with Session(context.engine) as session:
        assert sorted(session.exec(select(Paper.arxiv_id, Paper.updated_at)).all()) == stamps
    assert feed_day(context.engine, day).fetched_at == fetched_at  # type: ignore[union-attr]


def test_day_without_announcement_is_recorded_with_a_plain_note(
    arxiv_fixtures: Path, context: App
) -> None:
    ctx = file_context(context, arxiv_fixtures / "corpus" / CORPUS)
    saturday = date(2025, 10, 18)
    report = run_stage(ctx, "fetch", saturday)
    assert report.note == "no arXiv announcement on 2025-10-18"
    assert report.written == 1
    row = feed_day(context.engine, saturday)
    assert row is not None
    assert row.status is DayStatus.NO_ANNOUNCEMENT
    assert count(context.engine, Paper) == 0
    assert run_stage(ctx, "fetch", saturday).written == 0


def test_latest_day_of_a_file_is_its_last_date(arxiv_fixtures: Path, context: App) -> None:
    assert fetch.latest_day(
        file_context(context, arxiv_fixtures / "corpus" / CORPUS).settings
    ) == date(2025, 10, 17)


def test_malformed_feed_file_raises_feed_error_and_stores_nothing(
    arxiv_fixtures: Path, context: App, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_bytes(read(arxiv_fixtures, "rss", LAYA)[:5000])
    with pytest.raises(FeedError, match="not well-formed"):
        run_stage(file_context(context, broken), "fetch", LAYA_DAY)
    assert count(context.engine, Paper) == count(context.engine, FeedDay) == 0


# ---- run: the RSS feed over loopback HTTP ----------------------------------------------------


def rss_context(context: App, httpserver: HTTPServer, **changes: object) -> App:
    return with_arxiv(context, rss_settings(httpserver, **changes))


def test_run_downloads_the_rss_feed_keeps_its_bytes_and_reuses_them(
    arxiv_fixtures: Path, context: App, httpserver: HTTPServer
) -> None:
    ctx = rss_context(context, httpserver)
    data = read(arxiv_fixtures, "rss", LAYA)
    httpserver.expect_request(rss_path(ctx.settings.arxiv)).respond_with_data(
        data, content_type="application/rss+xml"
    )
    report = run_stage(ctx, "fetch", LAYA_DAY)
    assert report.details == {"new": 2, "cross": 1, "replace": 1, "inserted": 4, "updated": 0}
    saved = ctx.settings.data_dir / "raw" / "2026-09-24" / "rss-cs.CL+cs.LG+cs.AI.xml"
    assert saved.read_bytes() == data
    row = feed_day(context.engine, LAYA_DAY)
    assert row is not None
    assert (row.source, row.raw_path, row.new_count, row.cross_count, row.replace_count) == (
        "rss",
        str(saved),
        2,
        1,
        1,
    )
    assert run_stage(ctx, "fetch", LAYA_DAY).written == 0
    assert len(httpserver.log) == 1  # the re-run read the saved bytes


def test_latest_day_saves_the_feed_that_run_then_reuses(
    arxiv_fixtures: Path, context: App, httpserver: HTTPServer
) -> None:
    ctx = rss_context(context, httpserver)
    httpserver.expect_request(rss_path(ctx.settings.arxiv)).respond_with_data(
        read(arxiv_fixtures, "rss", LAYA)
    )
    assert fetch.latest_day(ctx.settings) == LAYA_DAY
    assert run_stage(ctx, "fetch", LAYA_DAY).details["inserted"] == 4
    assert len(httpserver.log) == 1


def test_rss_feed_of_another_day_raises_and_points_to_backfill(
    arxiv_fixtures: Path, context: App, httpserver: HTTPServer
) -> None:
    ctx = rss_context(context, httpserver)
    httpserver.expect_request(rss_path(ctx.settings.arxiv)).respond_with_data(
        read(arxiv_fixtures, "rss", LAYA)
    )
    with pytest.raises(FeedError, match=r"holds the announcement of 2026-09-24.*backfill"):
        run_stage(ctx, "fetch", date(2026, 9, 23))
    assert count(context.engine, Paper) == count(context.engine, FeedDay) == 0


def test_empty_rss_feed_records_no_announcement(
    arxiv_fixtures: Path, context: App, httpserver: HTTPServer
) -> None:
    ctx = rss_context(context, httpserver)
    empty = re.sub(rb"\s*<item>.*?</item>", b"", read(arxiv_fixtures, "rss", LAYA), flags=re.S)
    httpserver.expect_request(rss_path(ctx.settings.arxiv)).respond_with_data(empty)
    report = run_stage(ctx, "fetch", LAYA_DAY)
    assert report.note == "no arXiv announcement on 2026-09-24"
    row = feed_day(context.engine, LAYA_DAY)
    assert row is not None
    assert row.status is DayStatus.NO_ANNOUNCEMENT


def test_503_then_200_succeeds_through_the_library_retries(
    arxiv_fixtures: Path, context: App, httpserver: HTTPServer
) -> None:
    ctx = rss_context(context, httpserver)
    path = rss_path(ctx.settings.arxiv)
    httpserver.expect_ordered_request(path).respond_with_data(
        "busy", status=503, headers={"Retry-After": "0"}
    )
    httpserver.expect_ordered_request(path).respond_with_data(read(arxiv_fixtures, "rss", LAYA))
    assert run_stage(ctx, "fetch", LAYA_DAY).details["inserted"] == 4
    assert [response.status_code for _, response in httpserver.log] == [503, 200]


def test_persistent_500_raises_source_unavailable_and_stores_nothing(
    context: App, httpserver: HTTPServer
) -> None:
    ctx = rss_context(context, httpserver, rss_num_retries=2)
    httpserver.expect_request(rss_path(ctx.settings.arxiv)).respond_with_data("oops", status=500)
    with pytest.raises(
        SourceUnavailableError, match=r"/rss/cs\.CL\+cs\.LG\+cs\.AI answered HTTP 500"
    ):
        run_stage(ctx, "fetch", LAYA_DAY)
    assert len(httpserver.log) == 3
    assert count(context.engine, Paper) == count(context.engine, FeedDay) == 0


def test_malformed_download_is_kept_under_rejected_and_nothing_is_stored(
    arxiv_fixtures: Path, context: App, httpserver: HTTPServer
) -> None:
    ctx = rss_context(context, httpserver)
    truncated = read(arxiv_fixtures, "rss", LAYA)[:6000]
    httpserver.expect_request(rss_path(ctx.settings.arxiv)).respond_with_data(truncated)
    with pytest.raises(FeedError, match="raw bytes kept in"):
        run_stage(ctx, "fetch", LAYA_DAY)
    raw = ctx.settings.data_dir / "raw"
    (rejected,) = (raw / "rejected").iterdir()
    assert rejected.read_bytes() == truncated
    assert [path.name for path in raw.iterdir()] == ["rejected"]
    assert count(context.engine, Paper) == count(context.engine, FeedDay) == 0


def test_day_stored_by_another_source_is_not_read_again(context: App, arxiv_fixtures: Path) -> None:
    ctx = file_context(context, arxiv_fixtures / "corpus" / CORPUS)
    day = date(2025, 10, 15)
    with session_scope(ctx.engine) as session:
        session.add(FeedDay(day=day, status=DayStatus.ANNOUNCED, source="api", new_count=3))
    report = run_stage(ctx, "fetch", day)
    assert report.written == 0
    assert report.note == "2025-10-15 was already stored from api"


def test_api_atom_affiliations_are_read_per_author_in_order(arxiv_fixtures: Path) -> None:
    page = parse_feed(read(arxiv_fixtures, "api", "query_all-testing_start0_max100.atom.xml"))
    with_affiliations = {a.arxiv_id: a.affiliations for a in page.announcements if a.affiliations}
    # feedparser alone keeps only the entry's last affiliation (IBISC).
    assert with_affiliations == {"0804.0970": ("LRI", "IBISC")}
    (old,) = parse_feed(
        read(arxiv_fixtures, "api", "idlist_old_style_astro-ph_0601001.atom.xml")
    ).announcements
    assert old.affiliations == ("Ohio State", "CfA", "Warsaw University Observatory")


def test_rss_has_no_affiliations_and_does_not_erase_known_ones(
    arxiv_fixtures: Path, engine: Engine
) -> None:
    (api,) = parse_feed(
        read(arxiv_fixtures, "api", "idlist_old_style_astro-ph_0601001.atom.xml")
    ).announcements
    with Session(engine) as session:
        store_reference_papers(session, [api])
        session.commit()
        # The same paper announced again by a source without affiliations, as RSS is.
        store_reference_papers(session, [dataclasses.replace(api, affiliations=(), version=2)])
        session.commit()
        stored = session.get_one(Paper, "astro-ph/0601001")
    assert stored.affiliations == ["Ohio State", "CfA", "Warsaw University Observatory"]
    assert all(
        not announcement.affiliations
        for name in ("trimmed_cs.CL_2026-04-27_3items.xml",)
        for announcement in parse_feed(read(arxiv_fixtures, "rss", name)).announcements
    )
