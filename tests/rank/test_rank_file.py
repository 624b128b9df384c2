import gzip
import json
from pathlib import Path

import pytest
from sqlmodel import col, select

from paperradar.app import App
from paperradar.errors import FeedError
from paperradar.profiles.profile import load_profile
from paperradar.rank.rank_file import rank_papers_file
from paperradar.store.db import session_scope
from paperradar.store.records import Embedding, Paper

REPO_ROOT = Path(__file__).resolve().parents[2]
PROFILE = REPO_ROOT / "profiles" / "default.yaml"
FUSECHAT = "2408.07990"
MERGING = ("2510.14697", "2510.14163")  # two real model-merging papers of the corpus


@pytest.fixture
def rows(arxiv_fixtures: Path) -> list[dict[str, object]]:
    path = arxiv_fixtures / "corpus" / "corpus_cs_cl_lg_ai_2025-09_2025-10.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    merging = [row for row in rows if row["id"] in MERGING]
    return merging + [row for row in rows if row["date"] == "2025-10-14"][:10]


def write(path: Path, rows: list[dict[str, object]]) -> Path:
    text = "".join(json.dumps(row) + "\n" for row in rows).encode("utf-8")
    path.write_bytes(gzip.compress(text) if path.suffix == ".gz" else text)
    return path


@pytest.mark.parametrize("name", ["papers.jsonl", "papers.jsonl.gz"])
def test_rank_orders_every_paper_for_every_topic(
    context: App, rows: list[dict[str, object]], tmp_path: Path, name: str
) -> None:
    ranking = rank_papers_file(
        context.engine,
        context.embedder,
        write(tmp_path / name, rows),
        load_profile(PROFILE),
        today=context.clock().date(),
    )
    assert list(ranking) == ["model_merging", "self_evolution", "long_context"]
    for ids in ranking.values():
        assert sorted(ids) == sorted(str(row["id"]) for row in rows)
    assert set(ranking["model_merging"][:2]) == set(MERGING)


def test_ranked_papers_are_stored_as_non_candidates_and_embedded_once(
    context: App, rows: list[dict[str, object]], tmp_path: Path
) -> None:
    papers, profile = write(tmp_path / "papers.jsonl", rows), load_profile(PROFILE)
    first = rank_papers_file(
        context.engine, context.embedder, papers, profile, today=context.clock().date()
    )
    with session_scope(context.engine) as session:
        ids = [str(row["id"]) for row in rows]
        stored = session.exec(select(Paper).where(col(Paper.arxiv_id).in_(ids))).all()
        vectors = len(session.exec(select(Embedding)).all())
    assert len(stored) == len(rows)
    assert all(paper.first_announced_on is None for paper in stored)
    # A second run over the same file embeds nothing and ranks the same.
    assert (
        rank_papers_file(
            context.engine, context.embedder, papers, profile, today=context.clock().date()
        )
        == first
    )
    with session_scope(context.engine) as session:
        assert len(session.exec(select(Embedding)).all()) == vectors


def test_rank_leaves_out_the_profiles_own_seed_papers(
    context: App, rows: list[dict[str, object]], tmp_path: Path
) -> None:
    profile = load_profile(PROFILE)
    seed = next(s for s in profile.seed_papers if s.id == FUSECHAT)
    as_row = {
        "id": seed.id,
        "title": seed.title,
        "abstract": seed.abstract,
        "authors": ["A. Author"],
        "categories": ["cs.CL"],
        "date": "2025-10-14",
    }
    ranking = rank_papers_file(
        context.engine,
        context.embedder,
        write(tmp_path / "p.jsonl", [*rows, as_row]),
        profile,
        today=context.clock().date(),
    )
    assert all(FUSECHAT not in ids and len(ids) == len(rows) for ids in ranking.values())


def test_rank_refuses_a_file_that_is_not_papers(context: App, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "2510.00001", "title": "no abstract"}\n', encoding="utf-8")
    with pytest.raises(FeedError):
        rank_papers_file(
            context.engine,
            context.embedder,
            bad,
            load_profile(PROFILE),
            today=context.clock().date(),
        )
