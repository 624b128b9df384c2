"""Subscribers, own topics and votes as rows, through the core functions and the CLI."""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine
from sqlmodel import col, select
from support.outbox import seed_digest
from support.views import DAY

from paperradar.app import App, with_current_profiles
from paperradar.cli.main import main
from paperradar.embed.embeddings import Embedder
from paperradar.errors import ConfigError
from paperradar.llm.translation import english_for, is_multilingual, needs_english
from paperradar.profiles.profile import Profile, Topic
from paperradar.rank import stage as scoring
from paperradar.rank import suggest as suggestions
from paperradar.rank.calibration import score_at
from paperradar.rank.index import ScoredMatch
from paperradar.readers import feedback, topics
from paperradar.readers.subscriptions import (
    SubscriptionError,
    deactivate,
    subscribe,
    unsubscribe,
)
from paperradar.settings import EmbeddingSettings, Settings
from paperradar.store.db import session_scope
from paperradar.store.records import CustomTopic, Paper, Subscription

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = Profile(
    name="default",
    topics={
        "model_merging": Topic(title="Model merging", description="merging weights"),
        "long_context": Topic(title="Long context", description="long inputs"),
    },
)


def test_topic_specs_read_names_descriptions_and_keywords_in_either_script() -> None:
    spec = topics.parse_topic_spec("Diffusion LMs: text diffusion;\nkeywords: masked, discrete")
    assert spec == topics.TopicSpec("Diffusion LMs", "text diffusion", ("masked", "discrete"))
    spec = topics.parse_topic_spec(
        "扩散语言模型：用扩散模型生成文本；关键词：掩码扩散，离散扩散、扩散"
    )
    assert spec.keywords == ("掩码扩散", "离散扩散", "扩散")
    spec = topics.parse_topic_spec("long-context reasoning with KV cache compression")
    assert spec == topics.TopicSpec(
        "Long-context reasoning with KV cache compression",
        "long-context reasoning with KV cache compression",
        ("long-context reasoning", "KV cache compression"),
    )
    spec = topics.parse_topic_spec("大模型的长上下文推理与KV缓存压缩。")
    assert (spec.title, spec.keywords) == (
        "大模型的长上下文推理与KV缓存压缩",
        ("大模型", "长上下文推理", "KV缓存压缩"),
    )
    for bad in (": only a description", "name:", "name: ; keywords: a", "x" * 1001):
        with pytest.raises(topics.TopicError):
            topics.parse_topic_spec(bad)


def test_non_latin_text_needs_english_unless_the_model_is_multilingual() -> None:
    assert needs_english("长上下文建模") and needs_english("Модели мира")
    assert not needs_english("fusion de modèles") and not needs_english("LoRA 2.0")
    assert not is_multilingual(EmbeddingSettings())
    assert is_multilingual(EmbeddingSettings(model="paraphrase-multilingual-MiniLM-L12-v2"))
    assert is_multilingual(EmbeddingSettings(model="/models/mine", multilingual=True))
    multilingual = EmbeddingSettings(model="BAAI/bge-m3")
    assert english_for(["长上下文"], embedding=multilingual, llm=None, prompts_dir=Path()) is None


def test_run_time_topics_merge_after_the_file_topics_and_own_topics_form_a_profile(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        alice = subscribe(session, channel="telegram", recipient="1", profile=SHARED)
        bob = subscribe(session, channel="telegram", recipient="2", profile=SHARED)
        spec = topics.parse_topic_spec("Model merging: a second take on merging")
        shared = topics.add_topic(
            session, profile="default", spec=spec, english=None, reserved=list(SHARED.topics)
        )
        own = topics.parse_topic_spec("World models: simulators for agents")
        topics.add_topic(session, profile=topics.own_profile_name(alice), spec=own, english=None)
        topics.add_topic(session, profile=topics.own_profile_name(bob), spec=own, english=None)
        deactivate(session, channel="telegram", recipient="2")
        merged = topics.current_profiles(session, [SHARED])
    assert shared.key == "model_merging_2"
    assert [profile.name for profile in merged] == ["default", f"sub-{alice.id}"]
    assert list(merged[0].topics) == ["model_merging", "long_context", "model_merging_2"]
    assert list(merged[1].topics) == ["world_models"]
    with session_scope(engine) as session, pytest.raises(ConfigError, match="reserved"):
        topics.current_profiles(session, [SHARED.model_copy(update={"name": "sub-7"})])


def test_subscriptions_check_topic_keys_and_remember_their_settings(engine: Engine) -> None:
    with session_scope(engine) as session:
        row = subscribe(
            session, channel="email", recipient="a@x.org", profile=SHARED, topics=["long_context"]
        )
        assert row.topics == ["long_context"]
        subscribe(
            session, channel="email", recipient="a@x.org", profile=SHARED, topics=["model_merging"]
        )
        assert row.topics == ["long_context", "model_merging"]
        unsubscribe(session, channel="email", recipient="a@x.org", topics=["long_context"])
        assert row.topics == ["model_merging"]
        with pytest.raises(SubscriptionError, match="no topic 'typo'"):
            subscribe(
                session, channel="email", recipient="a@x.org", profile=SHARED, topics=["typo"]
            )
        with pytest.raises(SubscriptionError, match="not subscribed"):
            unsubscribe(session, channel="email", recipient="a@x.org", topics=["long_context"])


def test_votes_are_one_per_reader_and_topic_and_net_out_per_paper(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add(Paper(arxiv_id="2510.00001", title="t", abstract="a", text_sha="0" * 64))
        session.flush()
        args = {"paper_id": "2510.00001", "profile": "default", "topic": "model_merging"}
        feedback.set_feedback(session, **args, value=1, channel="telegram", user_id="1")
        feedback.set_feedback(session, **args, value=-1, channel="telegram", user_id="1")
        feedback.set_feedback(session, **args, value=-1, channel="cli", user_id="2")
        assert len(feedback.list_feedback(session)) == 2
        votes = feedback.topic_votes(session, "default")["model_merging"]
        assert (votes.liked, votes.disliked) == ((), ("2510.00001",))
        with pytest.raises(feedback.FeedbackError, match="no stored paper"):
            feedback.set_feedback(
                session, **{**args, "paper_id": "2510.9"}, value=1, channel="cli", user_id="1"
            )


def _cli(args: list[str], settings: Settings) -> Result:
    env = {
        "PAPERRADAR_DATABASE_URL": settings.resolved_database_url,
        "PAPERRADAR_DATA_DIR": str(settings.data_dir),
        "PAPERRADAR_PROFILES_DIR": str(REPO_ROOT / "profiles"),
        "PAPERRADAR_PROMPTS_DIR": str(REPO_ROOT / "prompts"),
        "PAPERRADAR_MIGRATIONS_DIR": str(REPO_ROOT / "db"),
        "PAPERRADAR_CONFIG": "",
    }
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


def test_the_cli_adds_lists_and_removes_subscribers_and_votes(
    settings: Settings, engine: Engine
) -> None:
    added = _cli(
        [
            "subscribers",
            "add",
            "--channel",
            "email",
            "ada@example.org",
            "--topic",
            "long_context",
            "--language",
            "en",
            "--min",
            "55",
            "--time",
            "07:45",
            "--timezone",
            "Europe/Berlin",
        ],
        settings,
    )
    assert added.exit_code == 0, added.output
    assert _cli(["subscribers", "add", "--channel", "telegram", "42"], settings).exit_code == 0
    listed = _cli(["subscribers", "list"], settings).output
    assert (
        "email\tada@example.org\tactive\tdefault: long_context\t"
        "language en · min 55 · at 07:45 · zone Europe/Berlin" in listed
    )
    assert "telegram\t42\tactive\tdefault: model_merging, self_evolution, long_context" in listed
    typo = _cli(
        ["subscribers", "add", "--channel", "email", "b@x.org", "--topic", "typo"], settings
    )
    zone = _cli(
        ["subscribers", "add", "--channel", "email", "b@x.org", "--timezone", "UTC+8"], settings
    )
    assert zone.exit_code == 1 and "unknown time zone 'UTC+8'" in zone.output
    assert typo.exit_code == 1 and "no topic 'typo'" in typo.output
    assert _cli(["subscribers", "remove", "--channel", "telegram", "42"], settings).exit_code == 0
    with session_scope(engine) as session:
        assert [row.recipient for row in session.exec(select(Subscription))] == ["ada@example.org"]
        session.add(Paper(arxiv_id="2510.00002", title="t", abstract="a", text_sha="0" * 64))
    voted = _cli(["feedback", "add", "2510.00002", "--topic", "long_context", "--down"], settings)
    assert voted.exit_code == 0, voted.output
    assert (
        "-1\t2510.00002\tdefault/long_context\tcli:cli"
        in _cli(["feedback", "list"], settings).output
    )
    assert _cli(["deliveries"], settings).exit_code == 0
    with session_scope(engine) as session:
        assert not session.exec(select(CustomTopic)).all()


def test_a_liked_paper_becomes_an_anchor_of_its_topic_and_lifts_its_neighbours(
    settings: Settings, engine: Engine, embedder: Embedder, bilingual_day: list[dict[str, Any]]
) -> None:
    seed_digest(engine, SHARED, bilingual_day[:12], embedder=embedder)
    liked = bilingual_day[1]["id"]
    ctx = App(settings=settings, engine=engine, profiles=(SHARED,), embedder=embedder, llm=None)
    with session_scope(engine) as session:
        papers = session.exec(select(Paper).order_by(col(Paper.arxiv_id))).all()
        candidates = scoring.candidates_of(session, embedder.model_name, papers)
        before = _scores(scoring.score_candidates(session, ctx.embedder, SHARED, candidates))
        topic = "model_merging"
        feedback.set_feedback(
            session,
            paper_id=liked,
            profile="default",
            topic=topic,
            value=1,
            channel="telegram",
            user_id="7",
        )
    learned = with_current_profiles(ctx).profiles[0]
    assert [(seed.id, seed.topics) for seed in learned.seed_papers] == [(liked, [topic])]
    with session_scope(engine) as session:
        after = _scores(scoring.score_candidates(session, ctx.embedder, learned, candidates))
        feedback.set_feedback(
            session,
            paper_id=liked,
            profile="default",
            topic=topic,
            value=-1,
            channel="cli",
            user_id="8",
        )
    # The liked paper is a seed now (never picked again); its nearest neighbour gains.
    vectors = {c.paper_id: c.vector for c in candidates.papers if c.vector is not None}
    neighbour = max(
        (paper_id for paper_id in vectors if paper_id != liked),
        key=lambda paper_id: float(vectors[paper_id] @ vectors[liked]),
    )
    assert (liked, topic) not in after
    assert after[(neighbour, topic)] > before[(neighbour, topic)]
    assert not with_current_profiles(ctx).profiles[0].seed_papers


def _scores(matches: Sequence[ScoredMatch]) -> dict[tuple[str, str], float]:
    return {(match.paper_id, match.topic): match.score for match in matches}


@pytest.mark.slow
def test_suggestions_are_the_unvoted_papers_nearest_each_topic_cutoff(
    settings: Settings, engine: Engine, embedder: Embedder, bilingual_day: list[dict[str, Any]]
) -> None:
    seed_digest(engine, SHARED, bilingual_day[:30], embedder=embedder)
    ctx = App(settings=settings, engine=engine, profiles=(SHARED,), embedder=embedder, llm=None)
    with session_scope(engine) as session:
        proposed = suggestions.suggest(session, ctx.embedder, SHARED, DAY, count=2)
        papers = session.exec(select(Paper).where(Paper.first_announced_on == DAY)).all()
        pool = scoring.candidates_of(session, embedder.model_name, papers)
        every = scoring.score_candidates(session, ctx.embedder, SHARED, pool)
    for key, topic in SHARED.topics.items():
        cutoff = score_at(topic.min_percent)
        chosen = {match.paper_id for match in proposed[key]}
        assert len(chosen) == 2
        farthest = max(abs(match.score - cutoff) for match in proposed[key])
        others = [m for m in every if m.topic == key and m.paper_id not in chosen]
        assert all(abs(match.score - cutoff) >= farthest for match in others)

    rated = proposed["model_merging"][0].paper_id
    with session_scope(engine) as session:
        feedback.set_feedback(
            session,
            paper_id=rated,
            profile="default",
            topic="model_merging",
            value=-1,
            channel="cli",
            user_id="7",
        )
        again = suggestions.suggest(session, ctx.embedder, SHARED, DAY, count=2)
    assert rated not in {match.paper_id for match in again["model_merging"]}

    shown = _cli(["feedback", "suggest", "--day", DAY.isoformat(), "--count", "1"], settings)
    assert shown.exit_code == 0, shown.output
    assert "[model_merging]" in shown.output and "[long_context]" in shown.output
    assert "paperradar feedback add ID --topic KEY" in shown.output
