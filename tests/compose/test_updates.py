"""Updated versions: a replaced paper a digest showed is listed once in the next digest."""

import dataclasses
import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, func, select

from paperradar.compose.digests import DigestView, compose_digest, view_digest
from paperradar.compose.updates import what_changed
from paperradar.deliver.outbox import view_for
from paperradar.i18n import words
from paperradar.ingest.announcement import Announcement
from paperradar.ingest.feeds import parse_feed
from paperradar.ingest.papers import store_day
from paperradar.profiles.profile import Profile, Topic
from paperradar.store.records import DigestUpdate, Match, PaperRevision, Subscription
from paperradar.store.states import AnnounceType

CORPUS = "corpus/corpus_cs_cl_lg_ai_2025-09_2025-10.jsonl"
SHOWN_ON, REPLACED_ON, QUIET_DAY, LATER = (date(2025, 10, d) for d in (14, 15, 16, 17))
# Real 2025-10-14 papers: a survey and an MRI paper are picked; the third never is.
SURVEY, MRI, NEVER_SHOWN = "2510.09671", "2510.09649", "2510.09874"
PROFILE = Profile(
    name="lab",
    topics={
        "tables": Topic(title="Table QA", description="question answering over tables"),
        "medical": Topic(title="Medical imaging", description="MRI and diagnosis"),
    },
)
# The corpus holds no later version of these papers, so the survey's "v2" is its real abstract
# edited here: one sentence reworded (a number added) and one sentence appended.
REWORDED = (
    "We provide a comprehensive categorization of existing benchmarks and task setups.",
    "We provide a comprehensive categorization of 42 existing benchmarks and task setups.",
)
APPENDED = "We release the taxonomy and a curated reading list."


def announcements(arxiv_fixtures: Path, ids: Sequence[str]) -> dict[str, Announcement]:
    lines = (arxiv_fixtures / CORPUS).read_text(encoding="utf-8").splitlines()
    wanted = [line for line in lines if json.loads(line)["id"] in ids]
    found = {a.arxiv_id: a for a in parse_feed("\n".join(wanted).encode()).announcements}
    assert set(found) == set(ids)
    return found


def replaced(announcement: Announcement, version: int, **changes: str) -> Announcement:
    return dataclasses.replace(
        announcement,
        version=version,
        announce_type=AnnounceType.REPLACE,
        announced_on=REPLACED_ON,
        **changes,
    )


def publish(
    engine: Engine,
    day: date,
    papers: Sequence[Announcement],
    picks: dict[str, str],
    profile: Profile = PROFILE,
) -> None:
    """Store a day's announcements, score the picks above threshold and compose the digest."""
    with Session(engine) as session:
        store_day(session, day, papers, source="test", raw_path=None)
        session.add_all(
            Match(
                paper_id=paper_id,
                profile=profile.name,
                topic=topic,
                day=day,
                score=0.8,
                percent=80,
                reason="test",
            )
            for paper_id, topic in picks.items()
        )
        compose_digest(session, profile=profile, day=day)
        session.commit()


def view(engine: Engine, day: date, profile: Profile = PROFILE) -> DigestView:
    with Session(engine) as session:
        found = view_digest(session, profile=profile, day=day)
    assert found is not None
    return found


def count(engine: Engine, table: type[DigestUpdate] | type[PaperRevision]) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(table)).one()


@pytest.fixture
def shown(arxiv_fixtures: Path, engine: Engine) -> dict[str, Announcement]:
    """The three papers announced on SHOWN_ON; the survey and the MRI paper are picked."""
    papers = announcements(arxiv_fixtures, [SURVEY, MRI, NEVER_SHOWN])
    publish(engine, SHOWN_ON, list(papers.values()), {SURVEY: "tables", MRI: "medical"})
    assert view(engine, SHOWN_ON).pick_count == 2
    return papers


def replacements(shown: dict[str, Announcement]) -> list[Announcement]:
    survey = shown[SURVEY]
    edited = survey.abstract.replace(*REWORDED) + " " + APPENDED
    assert edited != survey.abstract + " " + APPENDED  # the reworded sentence is real
    return [
        replaced(survey, 2, abstract=edited),
        replaced(shown[MRI], 3),  # v2 never reached us; the text is the same
        replaced(shown[NEVER_SHOWN], 2, abstract="A new abstract altogether."),
    ]


def test_a_new_version_of_a_paper_a_digest_showed_is_listed_in_the_next_digest(
    engine: Engine, shown: dict[str, Announcement]
) -> None:
    publish(engine, REPLACED_ON, replacements(shown), {})

    updates = {update.paper.arxiv_id: update for update in view(engine, REPLACED_ON).updates}

    assert set(updates) == {SURVEY, MRI}  # the paper no digest showed is not an update
    survey, mri = updates[SURVEY], updates[MRI]
    assert (survey.old_version, survey.new_version, survey.paper.version) == (1, 2, 2)
    assert (mri.old_version, mri.new_version) == (1, 3)
    assert survey.first_sent_on == mri.first_sent_on == SHOWN_ON
    assert (survey.topics, mri.topics) == (("tables",), ("medical",))
    assert survey.abstract.changed and not mri.abstract.changed
    assert survey.abstract.sentences_added == (APPENDED,)
    assert survey.abstract.sentences_revised == 1
    assert survey.abstract.sentences_removed == 0
    assert (survey.abstract.words_added, survey.abstract.words_removed) == (10, 0)
    assert survey.old_title is None


def test_a_rerun_neither_loses_nor_repeats_an_update(
    engine: Engine, shown: dict[str, Announcement]
) -> None:
    publish(engine, REPLACED_ON, replacements(shown), {})
    publish(engine, REPLACED_ON, replacements(shown), {})  # fetch and compose again

    assert count(engine, PaperRevision) == 2
    assert count(engine, DigestUpdate) == 2
    assert len(view(engine, REPLACED_ON).updates) == 2
    publish(engine, QUIET_DAY, [], {})
    assert view(engine, QUIET_DAY).updates == ()  # listed once, not again the next day


def test_a_later_version_is_listed_against_the_one_listed_before(
    engine: Engine, shown: dict[str, Announcement]
) -> None:
    first = replacements(shown)
    publish(engine, REPLACED_ON, first, {})
    retitled = dataclasses.replace(
        first[0], version=3, announced_on=LATER, title="Table QA with LLMs: a survey"
    )
    publish(engine, LATER, [retitled], {})

    (update,) = view(engine, LATER).updates

    assert (update.paper.arxiv_id, update.old_version, update.new_version) == (SURVEY, 2, 3)
    assert update.old_title == shown[SURVEY].title
    assert not update.abstract.changed
    assert update.first_sent_on == SHOWN_ON


def test_a_subscriber_of_some_topics_gets_only_their_papers_updates(
    engine: Engine, shown: dict[str, Announcement]
) -> None:
    publish(engine, REPLACED_ON, replacements(shown), {})
    subscriber = Subscription(id=7, channel="email", recipient="a@b.c", profile="lab")

    medical = view_for(
        view(engine, REPLACED_ON), subscriber.model_copy(update={"topics": ["medical"]})
    )

    assert [update.paper.arxiv_id for update in medical.updates] == [MRI]


def test_what_changed_is_one_line_in_the_readers_language(
    engine: Engine, shown: dict[str, Announcement]
) -> None:
    publish(engine, REPLACED_ON, replacements(shown), {})
    mri, survey = view(engine, REPLACED_ON).updates  # first sent on one day: by id

    assert what_changed(survey, words("en")) == (
        "abstract changed: 1 sentence added, 1 sentence reworded, +10/\u22120 words"
    )
    assert what_changed(survey, words("zh")) == "摘要有改动：新增 1 句、改写 1 句、词数 +10/\u22120"
    assert what_changed(mri, words("en")) == "title and abstract unchanged"
    assert what_changed(mri, words("zh")) == "标题与摘要未变"


def test_a_paper_only_another_profile_showed_is_not_this_profiles_update(
    engine: Engine, shown: dict[str, Announcement]
) -> None:
    other = Profile(name="other", topics={"play": Topic(title="Play", description="games")})
    publish(engine, SHOWN_ON, list(shown.values()), {NEVER_SHOWN: "play"}, profile=other)
    publish(engine, REPLACED_ON, replacements(shown), {})
    publish(engine, REPLACED_ON, replacements(shown), {}, profile=other)

    assert [u.paper.arxiv_id for u in view(engine, REPLACED_ON, other).updates] == [NEVER_SHOWN]
    assert NEVER_SHOWN not in {u.paper.arxiv_id for u in view(engine, REPLACED_ON).updates}
