"""What a new version changed in an abstract, in words a reader can take in at a glance: no LLM.

Sentences are aligned first (difflib), so a reworded sentence counts as revised rather than as
one removed and one added; words are counted over the whole text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from paperradar.i18n import Words

# A sentence ends at . ! or ? followed by space and a capital, a digit or an opening bracket;
# "e.g. the" and "Fig. 3" stay inside their sentence more often than not, which is enough here.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[])")
# A rewritten sentence keeps at least this share of its characters in order with the old one.
REVISED_RATIO = 0.5


@dataclass(frozen=True)
class TextChange:
    """How a new text differs from an old one; all zero and empty when only spacing differs."""

    changed: bool = False
    words_added: int = 0
    words_removed: int = 0
    # Sentences of the new text with no counterpart in the old one, in order.
    sentences_added: tuple[str, ...] = ()
    sentences_revised: int = 0
    sentences_removed: int = 0


def sentences(text: str) -> list[str]:
    """Split a text into sentences, whitespace collapsed."""
    flat = " ".join(text.split())
    return [part for part in _SENTENCE_END.split(flat) if part] if flat else []


def _word_counts(old: list[str], new: list[str]) -> tuple[int, int]:
    added = removed = 0
    for tag, i1, i2, j1, j2 in SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag != "equal":
            removed += i2 - i1
            added += j2 - j1
    return added, removed


def _similar(sentence: str, candidates: list[str]) -> int | None:
    """The index of the candidate the sentence rewrites, if any."""
    best, best_ratio = None, REVISED_RATIO
    for index, candidate in enumerate(candidates):
        ratio = SequenceMatcher(a=candidate, b=sentence, autojunk=False).ratio()
        if ratio >= best_ratio:
            best, best_ratio = index, ratio
    return best


def compare(old: str, new: str) -> TextChange:
    """Compare two versions of a text (an abstract) sentence by sentence and word by word."""
    old_sentences, new_sentences = sentences(old), sentences(new)
    if old_sentences == new_sentences:
        return TextChange()
    added: list[str] = []
    revised = removed = 0
    matcher = SequenceMatcher(a=old_sentences, b=new_sentences, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        unmatched = old_sentences[i1:i2]
        for sentence in new_sentences[j1:j2]:
            index = _similar(sentence, unmatched)
            if index is None:
                added.append(sentence)
            else:
                revised += 1
                del unmatched[index]
        removed += len(unmatched)
    words_added, words_removed = _word_counts(old.split(), new.split())
    return TextChange(True, words_added, words_removed, tuple(added), revised, removed)


def describe(change: TextChange, t: Words) -> str:
    """The change in one line of the reader's language, e.g. "abstract changed: 1 sentence
    added, 1 sentence reworded, +10/-0 words"; "abstract unchanged" when it is not."""
    if not change.changed:
        return t("updates.abstract_unchanged")
    parts = []
    if change.sentences_added:
        parts.append(t("updates.change.sentences_added", count=len(change.sentences_added)))
    if change.sentences_revised:
        parts.append(t("updates.change.sentences_revised", count=change.sentences_revised))
    if change.sentences_removed:
        parts.append(t("updates.change.sentences_removed", count=change.sentences_removed))
    parts.append(t("updates.change.words", added=change.words_added, removed=change.words_removed))
    return t("updates.abstract_changed", changes=t.join(parts))
