"""The README and docs/ name only commands and options the CLI has; the README stays short."""

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from paperradar.cli.main import main

REPO_ROOT = Path(__file__).resolve().parents[2]
README = REPO_ROOT / "README.md"
DOCS = sorted((REPO_ROOT / "docs").glob("*.md"))
MAX_README_BYTES = 10_240

FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`([^`\n]+)`")
# A command word, or alternatives such as `add|list|remove`.
WORD = re.compile(r"[a-z][a-z-]*(\|[a-z][a-z-]*)*")
OPTION = re.compile(r"--[a-z][a-z-]*")
SHELL_SEPARATORS = {"|", ";", "&&", "||", ">"}

CommandPath = tuple[str, ...]


def code_lines(markdown: str) -> list[str]:
    """Every line of the fenced blocks, and every inline code span, table cells included."""
    blocks = FENCE.findall(markdown)
    lines = [line for block in blocks for line in block.splitlines()[1:-1]]
    prose = FENCE.sub("", markdown)
    return [*lines, *CODE_SPAN.findall(prose)]


def commands_in(line: str) -> dict[CommandPath, set[str]]:
    """The `paperradar …` command paths in one line of code, each with the options shown."""
    tokens = re.split(r"\s#", line.replace(r"\|", "|"))[0].split()
    found: dict[CommandPath, set[str]] = {}
    for start, token in enumerate(tokens):
        following = tokens[start + 1 : start + 2]
        if token != "paperradar" or following in ([], ["paperradar"]):
            continue  # an image or service name: `docker compose exec paperradar paperradar …`
        paths: list[CommandPath] = [()]
        command: click.Command | None = main
        rest = tokens[start + 1 :]
        while rest and isinstance(command, click.Group) and WORD.fullmatch(rest[0]):
            names = rest.pop(0).split("|")
            paths = [(*path, name) for path in paths for name in names]
            command = command.commands.get(names[0])
        if paths == [()]:
            continue
        options = set()
        for word in rest:
            if word in SHELL_SEPARATORS or word == "paperradar":
                break
            options.update(OPTION.findall(word))
        for path in paths:
            found.setdefault(path, set()).update(options)
    return found


def documented_commands(pages: list[Path]) -> dict[CommandPath, set[str]]:
    """Every command path named in the pages, with every option shown with it."""
    commands: dict[CommandPath, set[str]] = {}
    for page in pages:
        for line in code_lines(page.read_text(encoding="utf-8")):
            for path, options in commands_in(line).items():
                commands.setdefault(path, set()).update(options)
    return commands


def leaf_commands(group: click.Group, prefix: CommandPath = ()) -> set[CommandPath]:
    """Every command of the CLI that is not a group, as its path."""
    leaves: set[CommandPath] = set()
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            leaves |= leaf_commands(command, (*prefix, name))
        else:
            leaves.add((*prefix, name))
    return leaves


DOCUMENTED = documented_commands([README, *DOCS])


def test_the_parser_reads_paths_alternatives_and_options() -> None:
    line = r"paperradar subscribers add\|list --channel C  # a --comment"
    assert commands_in(line) == {
        ("subscribers", "add"): {"--channel"},
        ("subscribers", "list"): {"--channel"},
    }
    assert commands_in("docker compose exec paperradar paperradar status") == {("status",): set()}
    assert commands_in("docker build -t paperradar .") == {}


# Sorted, so that every pytest-xdist worker collects the same test ids.
@pytest.mark.parametrize(
    ("path", "options"),
    [(path, tuple(sorted(options))) for path, options in sorted(DOCUMENTED.items())],
    ids=" ".join,
)
def test_documented_command_and_options_exist(path: CommandPath, options: tuple[str, ...]) -> None:
    command = "paperradar " + " ".join(path)
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, f"`{command}` is not a command:\n{result.output}"
    missing = sorted(option for option in options if option not in result.output)
    assert not missing, f"`{command}` has no option {missing}"


def test_the_readme_names_every_command() -> None:
    assert leaf_commands(main) - set(documented_commands([README])) == set()


def test_the_readme_is_short() -> None:
    assert len(README.read_bytes()) <= MAX_README_BYTES


def test_the_readme_links_every_docs_page() -> None:
    readme = README.read_text(encoding="utf-8")
    assert DOCS
    unlinked = [page.name for page in DOCS if f"](docs/{page.name})" not in readme]
    assert unlinked == []
