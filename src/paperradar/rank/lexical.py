"""Lexical evidence, pure: tokens, BM25 over a set of papers, and keyword-phrase matches."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

# Okapi BM25's usual constants.
BM25_K1 = 1.2
BM25_B = 0.75

_TOKEN = re.compile(r"[a-z0-9]+")
# Function words carry no topic; dropped from BM25 queries and documents, kept for phrases.
_STOPWORD_TEXT = """
    a about above across after again against all also an and any are as at be because been
    before being between both but by can could did do does doing during each either etc few
    for from further had has have having here how however i if in into is it its itself just
    many may might more most much must no nor not of off on once only or other our out over
    own per same several should so some such than that the their them then there these they
    this those through thus to too under until up upon us very via was we were what when
    where whether which while who whom why will with within without would yet you your
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_SUFFIXES = ("ies", "ing", "ed", "es", "s", "e")
_NO_UNDOUBLE = "lszaeiou"  # a doubled l, s or z stays (fill, pass, buzz)


# Scoring tokenises every candidate and voted paper on each run; a field's words repeat.
@lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """Strip one inflection so that merge/merges/merged/merging and memory/memories agree."""
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix in _SUFFIXES:
        if not word.endswith(suffix) or (suffix in ("s", "es") and word.endswith("ss")):
            continue
        base = word[: -len(suffix)]
        if len(base) < 3:
            continue
        if suffix == "ies":
            return base + "y"
        if len(base) > 3 and base[-1] == base[-2] and base[-1] not in _NO_UNDOUBLE:
            base = base[:-1]  # running -> run, embedded -> embed
        return base
    return word


def tokenize(text: str) -> list[str]:
    """Lower-case, split on anything but letters and digits, and stem; stopwords are kept."""
    return [stem(token) for token in _TOKEN.findall(text.lower())]


def content_terms(tokens: Sequence[str]) -> list[str]:
    """Drop stopwords and one-character tokens."""
    return [token for token in tokens if len(token) > 1 and token not in STOPWORDS]


def bm25_idf(doc_count: int, doc_freq: np.ndarray | int) -> np.ndarray:
    """BM25's idf, floored at zero-ish: log(1 + (N - df + 0.5) / (df + 0.5))."""
    df = np.asarray(doc_freq, dtype=np.float64)
    return np.log1p((doc_count - df + 0.5) / (df + 0.5))


@dataclass(frozen=True)
class PhraseHits:
    """Where one phrase occurs in each document: in its title, and how often in its text."""

    phrase: str
    in_title: np.ndarray  # bool per document
    count: np.ndarray  # occurrences in title + abstract per document
    idf: float


class LexicalIndex:
    """Token statistics of one set of papers (e.g. a day's candidates), the source of all idf.

    An index built with `statistics=` scores its own papers with the idf and mean length of that
    other index: yesterday's voted papers scored as if they had been announced among today's.
    """

    def __init__(
        self,
        titles: Sequence[str],
        abstracts: Sequence[str],
        *,
        statistics: LexicalIndex | None = None,
    ) -> None:
        self.title_tokens = [tokenize(title) for title in titles]
        self.text_tokens = [
            title + tokenize(abstract)
            for title, abstract in zip(self.title_tokens, abstracts, strict=True)
        ]
        self.size = len(self.text_tokens)
        self._counts = [Counter(content_terms(tokens)) for tokens in self.text_tokens]
        self._lengths = np.array([counts.total() for counts in self._counts], dtype=np.float64)
        self._mean_length = float(self._lengths.mean()) if self.size else 0.0
        self._statistics = statistics or self
        # A scoring run asks for a few hundred terms: each one's postings are gathered when first
        # asked for, not every term of every document up front.
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._phrases: dict[str, PhraseHits] = {}

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """The documents holding a (stemmed) term, and how often each holds it."""
        posting = self._postings.get(term)
        if posting is None:
            rows = [
                (index, count)
                for index, counts in enumerate(self._counts)
                if (count := counts.get(term))
            ]
            posting = (
                np.array([index for index, _ in rows], dtype=np.intp),
                np.array([count for _, count in rows], dtype=np.float64),
            )
            self._postings[term] = posting
        return posting

    def doc_freq(self, term: str) -> int:
        """How many documents contain a (stemmed) term."""
        return self._doc_freqs[term]

    @cached_property
    def _doc_freqs(self) -> Counter[str]:
        # Every term's at once: idf is asked of many more terms than postings are.
        freqs: Counter[str] = Counter()
        for counts in self._counts:
            freqs.update(counts.keys())
        return freqs

    def idf(self, term: str) -> float:
        """A term's BM25 idf over the statistics' documents (this index's own by default)."""
        stats = self._statistics
        return float(bm25_idf(stats.size, stats.doc_freq(term)))

    def bm25(self, query: str) -> np.ndarray:
        """Score every document against a free-text query with Okapi BM25 (idf from this set)."""
        scores = np.zeros(self.size, dtype=np.float64)
        if not self.size:
            return scores
        mean_length = max(self._statistics._mean_length, 1.0)
        norm = BM25_K1 * (1 - BM25_B + BM25_B * self._lengths / mean_length)
        for term, weight in Counter(content_terms(tokenize(query))).items():
            docs, counts = self.postings(term)
            scores[docs] += weight * self.idf(term) * counts * (BM25_K1 + 1) / (counts + norm[docs])
        return scores

    def bm25_share(self, query: str) -> np.ndarray:
        """BM25 as a share of the query's own weight (every term saturated), in [0, 1)."""
        terms = Counter(content_terms(tokenize(query)))
        ceiling = sum(weight * self.idf(term) * (BM25_K1 + 1) for term, weight in terms.items())
        return self.bm25(query) / ceiling if ceiling > 0 else np.zeros(self.size)

    def phrase_hits(self, phrase: str) -> PhraseHits:
        """Find a phrase as consecutive stemmed tokens in each document's title and text."""
        if phrase not in self._phrases:
            self._phrases[phrase] = self._find(phrase)
        return self._phrases[phrase]

    def _find(self, phrase: str) -> PhraseHits:
        words = tokenize(phrase)
        in_title = np.zeros(self.size, dtype=bool)
        count = np.zeros(self.size, dtype=np.float64)
        candidates = self._docs_with_all(words)
        for index in candidates:
            count[index] = _occurrences(self.text_tokens[index], words)
            in_title[index] = _occurrences(self.title_tokens[index], words) > 0
        if self._statistics is not self:
            idf = self._statistics.phrase_hits(phrase).idf
        else:
            idf = float(bm25_idf(self.size, int((count > 0).sum())))
        return PhraseHits(phrase, in_title, count, idf)

    def _docs_with_all(self, words: Sequence[str]) -> list[int]:
        terms = set(content_terms(words))
        if not terms:
            return []
        found: set[int] | None = None
        for term in terms:
            docs = set(self.postings(term)[0].tolist())
            found = docs if found is None else found & docs
            if not found:
                return []
        return sorted(found or ())


def has_phrase(tokens: Sequence[str], phrase: str) -> bool:
    """Whether a tokenised text (`tokenize`) holds a phrase as consecutive stemmed tokens."""
    words = tokenize(phrase)
    return bool(words) and _occurrences(tokens, words) > 0


def _occurrences(tokens: Sequence[str], words: Sequence[str]) -> int:
    width = len(words)
    first = words[0]
    return sum(
        1
        for start, token in enumerate(tokens)
        if token == first and list(tokens[start : start + width]) == list(words)
    )


def saturate(value: np.ndarray, half: float) -> np.ndarray:
    """Map non-negative evidence onto [0, 1): value / (value + half), so `half` scores 0.5."""
    return value / (value + half)
