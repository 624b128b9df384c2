import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from sqlmodel import select

from paperradar.app import App
from paperradar.embed.embeddings import Embedder
from paperradar.embed.novelty import novelty_values, percentiles
from paperradar.ingest.feeds import parse_feed
from paperradar.ingest.papers import store_announcements
from paperradar.service.pipeline import run_stage
from paperradar.store.db import session_scope
from paperradar.store.records import Novelty
from paperradar.text import paper_text

DAYS = (date(2025, 10, 13), date(2025, 10, 14), date(2025, 10, 15))


@pytest.fixture(scope="module")
def corpus(arxiv_fixtures: Path) -> dict[date, list[dict[str, object]]]:
    path = arxiv_fixtures / "corpus" / "corpus_cs_cl_lg_ai_2025-09_2025-10.jsonl"
    by_day: dict[date, list[dict[str, object]]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        by_day.setdefault(date.fromisoformat(row["date"]), []).append(row)
    return by_day


def _vectors(embedder: Embedder, rows: list[dict[str, object]]) -> np.ndarray:
    return embedder.embed([paper_text(str(row["title"]), str(row["abstract"])) for row in rows])


def test_a_paper_seen_before_is_less_novel_than_the_day_around_it(
    corpus: dict[date, list[dict[str, object]]], embedder: Embedder
) -> None:
    earlier = _vectors(embedder, corpus[DAYS[0]] + corpus[DAYS[1]])
    day = _vectors(embedder, corpus[DAYS[2]][:30])
    repeated = np.vstack([day, earlier[:1]])  # a paper the archive already holds, again
    values, compared = novelty_values(repeated, earlier, k=5)
    assert compared == 5
    assert values.min() >= 0.0 and values.max() <= 1.0
    assert percentiles(list(values))[-1] < 50
    assert values[-1] < np.median(values[:-1])


def test_with_too_few_earlier_papers_the_days_others_stand_in_and_not_the_paper_itself(
    corpus: dict[date, list[dict[str, object]]], embedder: Embedder
) -> None:
    day = _vectors(embedder, corpus[DAYS[0]][:12])
    values, compared = novelty_values(day, np.zeros((0, day.shape[1]), np.float32), k=5)
    assert compared == 5
    # Were a paper its own neighbour, its mean cosine would hold a 1.0 and its novelty drop.
    alone = [novelty_values(day[[i]], np.delete(day, i, axis=0), k=5)[0][0] for i in range(12)]
    assert np.allclose(values, alone, atol=1e-5)


def test_percentiles_run_from_the_least_to_the_most_novel_and_ties_share() -> None:
    assert percentiles([0.2, 0.5, 0.9]) == [0, 50, 100]
    assert percentiles([0.3, 0.3, 0.9]) == [25, 25, 100]
    assert percentiles([0.4]) == [100]
    assert percentiles([]) == []


@pytest.mark.slow
def test_the_stage_scores_each_paper_of_the_day_once(
    context: App, corpus: dict[date, list[dict[str, object]]]
) -> None:
    for day in DAYS:
        rows = corpus[day][:40]
        feed = "".join(json.dumps(row) + "\n" for row in rows)
        with session_scope(context.engine) as session:
            store_announcements(session, parse_feed(feed.encode()).announcements, day=day)
        run_stage(context, "embeddings", day)
        report = run_stage(context, "novelty", day)
        assert report.written == len(rows)
        assert run_stage(context, "novelty", day).written == 0
    with session_scope(context.engine) as session:
        stored = session.exec(select(Novelty).where(Novelty.day == DAYS[2])).all()
    assert len(stored) == 40
    assert {row.model for row in stored} == {context.embedder.model_name}
    assert {row.neighbours for row in stored} == {10}
    assert min(row.percent for row in stored) == 0
    assert max(row.percent for row in stored) == 100
