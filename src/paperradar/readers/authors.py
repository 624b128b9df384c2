"""Author names: when a name as arXiv lists it is the name a reader follows (docs/people.md).

Pure functions of strings, no database: names are folded to ASCII tokens (accents, ø, ß, ł),
compared surname first, given names in full or as initials, two-part names in either order
(CJK names written in Latin letters appear both ways), and hyphenated or run-together given
names alike (Jun-Yan, Jun Yan, Junyan). One name can be several people: `identities` splits the
papers under a name by the co-authors they share, and a follow pinned to one paper keeps to
the identity that paper belongs to.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum

# Letters NFKD does not take apart into a base letter and an accent.
FOLDED_LETTERS = str.maketrans(
    {"ø": "o", "Ø": "O", "ß": "ss", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "æ": "ae", "Æ": "AE",
     "œ": "oe", "Œ": "OE", "\u0131": "i", "þ": "th", "ð": "d"}
)  # fmt: skip
# Words that join a surname (Del Maestro, van der Schaar) or title a name (Md., Jr.): they
# never decide a match on their own.
PARTICLES = frozenset(
    {"al", "bin", "binti", "da", "das", "de", "del", "della", "der", "di", "dos", "du", "el",
     "la", "le", "ten", "ter", "van", "von", "y"}
)  # fmt: skip
TITLES = frozenset({"md", "jr", "sr", "ii", "iii", "iv", "dr", "prof"})
# A word: letters (any script) and digits; hyphens and apostrophes join its parts.
JOINERS = "['\u2019-]"
WORD = re.compile(rf"[^\W_]+(?:{JOINERS}[^\W_]+)*")
# `au:del_maestro_a`, arXiv's author query: surname first, words joined by `_`.
ARXIV_QUERY = re.compile(r"^au:\s*(?P<query>\S+)$", re.IGNORECASE)
MAX_NAME = 120


class Fit(IntEnum):
    """How well a followed name fits an author as listed (higher is surer)."""

    INITIALS = 1  # the same surname and initials (A. Del Maestro, Adrian Del Maestro)
    SWAPPED = 2  # a two-part name in the other order (Zhang Min, Min Zhang)
    FULL = 3  # every given name spelled out and the same


@dataclass(frozen=True)
class Name:
    """A person's name as folded tokens: given names (each a tuple of its hyphenated parts)
    and the surname (its particles included)."""

    given: tuple[tuple[str, ...], ...]
    surname: tuple[str, ...]

    @property
    def key(self) -> str:
        """The name as one ASCII slug: `junyan-zhu`, `adrian-del-maestro` (page names, grouping)."""
        return "-".join(["".join(parts) for parts in self.given] + list(self.surname))

    @property
    def last(self) -> str:
        """The surname's last word, the one every spelling of a name shares."""
        return self.surname[-1]

    @property
    def has_initials(self) -> bool:
        """Whether some given name is only an initial."""
        return any(len(part) == 1 for parts in self.given for part in parts)


def fold(text: str) -> str:
    """Lower-case ASCII where the letter has one: accents dropped, ø → o, ß → ss."""
    decomposed = unicodedata.normalize("NFKD", text.translate(FOLDED_LETTERS))
    return "".join(char for char in decomposed if not unicodedata.combining(char)).lower()


def parse_name(text: str) -> Name | None:
    """Read a name as arXiv lists it (`Jun-Yan Zhu`, `Zhu, Jun-Yan`, `A. Del Maestro`) or as
    an arXiv author query (`au:del_maestro_a`); None when it holds no name."""
    text = unicodedata.normalize("NFKC", text).strip()[:MAX_NAME]
    query = ARXIV_QUERY.match(text)
    if query is not None:
        words = query.group("query").split("_")
        cut = 1  # the surname, with the particles that lead it (del_maestro_a)
        while cut < len(words) and fold(words[cut - 1]) in PARTICLES:
            cut += 1
        text = f"{' '.join(words[cut:])} {' '.join(words[:cut])}"
    elif text.count(",") == 1 and not text.rstrip().endswith(","):
        surname, given = text.split(",")
        text = f"{given} {surname}"
    words = [word for word in WORD.findall(fold(text)) if word not in TITLES]
    if not words:
        return None
    split = [tuple(re.split(JOINERS, word)) for word in words]
    # The surname is the last word and the particles just before it (Del Maestro, van der X).
    start = len(split) - 1
    while start > 1 and words[start - 1] in PARTICLES:
        start -= 1
    return Name(
        given=tuple(split[:start]), surname=tuple("".join(parts) for parts in split[start:])
    )


def _given_fit(wanted: Sequence[tuple[str, ...]], listed: Sequence[tuple[str, ...]]) -> Fit | None:
    """How two lists of given names fit: the same letters in full, else the same initials."""
    full_wanted = "".join("".join(parts) for parts in wanted)
    full_listed = "".join("".join(parts) for parts in listed)
    if full_wanted == full_listed:
        return Fit.FULL
    return Fit.INITIALS if _initials_fit(wanted, listed) else None


def _initials_fit(wanted: Sequence[tuple[str, ...]], listed: Sequence[tuple[str, ...]]) -> bool:
    """Whether given names agree where one side gives only initials.

    Each name's parts are compared in order (`J.-Y.` against `Jun-Yan`); an initial fits any
    word it begins, two words must be equal. A middle name only one side gives is left out
    when it is an initial (`Chandan K. Reddy`, `Chandan Reddy`).
    """
    left = [part for parts in wanted for part in parts]
    right = [part for parts in listed for part in parts]
    if not left or not right or not _part_fits(left[0], right[0]):
        return False
    shorter, longer = sorted((left[1:], right[1:]), key=len)
    if len(shorter) == len(longer):
        return all(_part_fits(a, b) for a, b in zip(shorter, longer, strict=True))
    return not shorter and all(len(part) == 1 for part in longer)


def _part_fits(a: str, b: str) -> bool:
    if len(a) == 1 or len(b) == 1:
        return a[0] == b[0]
    return a == b


def fit(wanted: Name, listed: Name) -> Fit | None:
    """How well a followed name fits a listed author's name; None when it is someone else."""
    if wanted.surname[-1] == listed.surname[-1] and _same_particles(wanted, listed):
        found = _given_fit(wanted.given, listed.given)
        if found is not None:
            return found
    if _two_words(wanted) and _two_words(listed):
        (given,), (surname,) = wanted.given, wanted.surname
        swapped = Name(given=((surname,),), surname=("".join(given),))
        if swapped.key == listed.key:
            return Fit.SWAPPED
    return None


def _same_particles(wanted: Name, listed: Name) -> bool:
    """Del Maestro and Maestro are one surname; Del Maestro and Di Maestro are not."""
    a, b = wanted.surname[:-1], listed.surname[:-1]
    return not a or not b or a == b


def _two_words(name: Name) -> bool:
    return len(name.given) == 1 and len(name.surname) == 1


def author_position(wanted: Name, authors: Sequence[str], *, at_least: Fit) -> list[int]:
    """Where in a paper's author list the followed name appears, as surely as asked."""
    positions = []
    for index, author in enumerate(authors):
        listed = parse_name(author)
        if listed is None:
            continue
        found = fit(wanted, listed)
        if found is not None and found >= at_least:
            positions.append(index)
    return positions


def least_fit(wanted: Name, *, pinned: bool = False) -> Fit:
    """How sure a match must be. A full name does not match bare initials (Min Zhang is not
    every M. Zhang) unless the follow is pinned, where shared co-authors decide; a name given
    with initials matches by initials."""
    return Fit.INITIALS if wanted.has_initials or pinned else Fit.SWAPPED


def coauthor_keys(authors: Sequence[str], skip: Iterable[int]) -> frozenset[str]:
    """The keys of a paper's other authors."""
    skipped = set(skip)
    names = (parse_name(author) for index, author in enumerate(authors) if index not in skipped)
    return frozenset(name.key for name in names if name is not None)


@dataclass(frozen=True)
class Identity:
    """One person behind a name: the papers that share co-authors, and those co-authors."""

    papers: tuple[str, ...]
    coauthors: frozenset[str]
    # The co-authors to show when asking which person is meant: the most frequent first.
    shown: tuple[str, ...]


def identities(wanted: Name, papers: Sequence[tuple[str, Sequence[str]]]) -> list[Identity]:
    """Split the papers that list the name into people: papers that share a co-author are one
    person's (transitively). Largest first; a paper that lists the name twice (two people of
    one name on one paper) counts for one person."""
    least = least_fit(wanted, pinned=True)
    listed: list[tuple[str, Sequence[str], frozenset[str]]] = []
    for paper_id, authors in papers:
        found = author_position(wanted, authors, at_least=least)
        if found:
            listed.append((paper_id, authors, coauthor_keys(authors, found)))
    groups: list[tuple[list[str], set[str], list[str]]] = []
    for paper_id, authors, keys in listed:
        joined = [group for group in groups if group[1] & keys]
        merged: tuple[list[str], set[str], list[str]] = ([paper_id], set(keys), [])
        merged[2].extend(name for name in authors if _key(name) in keys)
        for group in joined:
            groups.remove(group)
            merged[0].extend(group[0])
            merged[1].update(group[1])
            merged[2].extend(group[2])
        groups.append(merged)
    result = [
        Identity(tuple(sorted(ids)), frozenset(keys), _most_frequent(names))
        for ids, keys, names in groups
    ]
    return sorted(result, key=lambda identity: (-len(identity.papers), identity.papers))


def _key(author: str) -> str:
    name = parse_name(author)
    return name.key if name is not None else ""


def _most_frequent(names: Sequence[str], limit: int = 3) -> tuple[str, ...]:
    counts: dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    return tuple(sorted(counts, key=lambda name: (-counts[name], name))[:limit])


def is_by(wanted: Name, authors: Sequence[str], pinned: Identity | None) -> bool:
    """Whether a paper is by the followed person: the name is on it and, for a follow pinned to
    one of several people of that name, the paper shares a co-author with that person."""
    least = least_fit(wanted, pinned=pinned is not None)
    found = author_position(wanted, authors, at_least=least)
    if not found:
        return False
    return pinned is None or bool(pinned.coauthors & coauthor_keys(authors, found))
