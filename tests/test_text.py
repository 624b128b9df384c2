import pytest

from paperradar.text import latex_to_unicode


@pytest.mark.parametrize(
    ("latex", "shown"),
    [
        (r"We predict $\mathbf{Y}$ at \textbf{88.37} accuracy", "We predict 𝐘 at 88.37 accuracy"),
        (r"$\alpha$-divergence under $\leq 5$ GB", "α-divergence under ≤ 5 GB"),
        (
            r"cost $O(n^2)$, 20% faster, 30\% smaller, Q&A, C#",
            "cost O(n^2), 20% faster, 30% smaller, Q&A, C#",
        ),
    ],
)
def test_latex_in_paper_text_is_shown_as_unicode(latex: str, shown: str) -> None:
    assert latex_to_unicode(latex) == shown


@pytest.mark.parametrize(
    "plain",
    ["Prices of $5 and $10 per query", "No LaTeX at all: 100% plain & simple", "<b>hostile</b>"],
)
def test_text_without_latex_is_left_alone(plain: str) -> None:
    assert latex_to_unicode(plain) == plain
