import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.papers import json_lines

from paperradar.cli.main import main

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    return {
        "PAPERRADAR_DATA_DIR": str(tmp_path / "var"),
        "PAPERRADAR_PROFILES_DIR": str(REPO_ROOT / "profiles"),
        "PAPERRADAR_PROMPTS_DIR": str(REPO_ROOT / "prompts"),
        "PAPERRADAR_MIGRATIONS_DIR": str(REPO_ROOT / "db"),
        "PAPERRADAR_EMBEDDING__DEVICE": "cpu",
        "PAPERRADAR_CONFIG": "",
    }


def _invoke(args: list[str], env: dict[str, str]):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


def test_profiles_check_lists_every_topic(cli_env: dict[str, str]) -> None:
    result = _invoke(["profiles", "check"], cli_env)
    assert result.exit_code == 0, result.output
    for key in ("model_merging", "self_evolution", "long_context"):
        assert key in result.output
    assert "15 seed paper(s) (15 with inline text)" in result.output


def test_missing_profiles_dir_is_one_clear_line_and_exit_1(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    result = _invoke(
        ["profiles", "check"], {**cli_env, "PAPERRADAR_PROFILES_DIR": str(tmp_path / "x")}
    )
    assert result.exit_code == 1
    assert "profiles dir not found" in result.output
    assert "PAPERRADAR_PROFILES_DIR" in result.output
    assert "Traceback" not in result.output


def test_invalid_setting_names_the_field(cli_env: dict[str, str]) -> None:
    result = _invoke(["profiles", "check"], {**cli_env, "PAPERRADAR_EMBEDDING__DEVICE": "tpu"})
    assert result.exit_code == 1
    assert "embedding.device" in result.output


@pytest.mark.slow
def test_demo_prints_picks_under_every_topic_and_writes_the_web_archive(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    result = _invoke(["demo"], cli_env)
    assert result.exit_code == 0, result.output
    output = result.output
    # The bundled profile reads both languages: Chinese chrome, its topics by their Chinese names.
    assert "论文雷达 PaperRadar · 模型融合、自进化、长上下文\n10月16日 星期四 · " in output
    for title in ("模型融合", "自进化", "长上下文"):
        section = output.split(f"━━ {title}（", 1)[1].split("\n━━ ", 1)[0]
        assert "% · arXiv:" in section, f"no pick under {title}"
    assert "暂无 AI 总结，以下为原文摘要。" in output  # no LLM: the same neutral line
    page = tmp_path / "var" / "web" / "default" / "2025-10-16.html"
    assert f"Web: {page}" in output
    assert "10月16日" in page.read_text(encoding="utf-8")
    assert "2025-10-16" in (tmp_path / "var" / "web" / "index.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_rank_writes_every_paper_for_every_topic(cli_env: dict[str, str], tmp_path: Path) -> None:
    corpus = REPO_ROOT / "src" / "paperradar" / "demo" / "cs_cl_lg_ai_2025-10-15.jsonl.gz"
    rows = json_lines(corpus)[:40]
    papers = tmp_path / "papers.jsonl"
    papers.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    out = tmp_path / "ranking.json"
    args = [
        "rank",
        "--papers",
        str(papers),
        "--profile",
        str(REPO_ROOT / "profiles" / "default.yaml"),
    ]
    result = _invoke([*args, "--out", str(out)], cli_env)
    assert result.exit_code == 0, result.output
    ranking = json.loads(out.read_text(encoding="utf-8"))
    assert set(ranking) == {"model_merging", "self_evolution", "long_context"}
    for ids in ranking.values():
        assert sorted(ids) == sorted(row["id"] for row in rows)


@pytest.mark.slow
def test_feedback_show_says_what_the_votes_taught_and_how_far_they_agree(
    cli_env: dict[str, str],
) -> None:
    assert _invoke(["demo"], cli_env).exit_code == 0
    suggested = _invoke(["feedback", "suggest", "--count", "6"], cli_env).output
    section = suggested.split("[self_evolution]", 1)[1].split("\n", 1)[1].split("[long_context]")[0]
    papers = [line.split()[0] for line in section.splitlines() if line.startswith("  ")][:4]
    assert len(papers) == 4, suggested

    def vote(paper: str, *down: str) -> None:
        result = _invoke(["feedback", "add", paper, "--topic", "self_evolution", *down], cli_env)
        assert result.exit_code == 0, result.output

    vote(papers[0])
    vote(papers[1], "--down")
    early = _invoke(["feedback", "show"], cli_env).output
    assert "1 👍, 1 👎" in early
    assert "taste: not yet (it needs 2 👍 and 2 👎" in early

    vote(papers[2])
    vote(papers[3], "--down")
    shown = _invoke(["feedback", "show"], cli_env).output
    assert "2 👍, 2 👎" in shown
    line = next(line for line in shown.splitlines() if "taste:" in line)
    percent = int(line.split("votes agree ", 1)[1].split("%", 1)[0])
    assert 0 <= percent <= 100
