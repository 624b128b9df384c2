"""What a topic has learned from readers' votes, in words a reader can check.

The bot says after a vote what changed ("more like «title»", with the words the topic now weighs
more); `paperradar feedback show` lists each topic's liked and disliked papers and the words its
votes weigh up and down. The words are a Rocchio view of the votes over the papers' own day:
each voted paper's terms weighted by tf-idf, 👍 adding and 👎 subtracting, the topic's own query
terms left out (it has them already). This lives in `rank` because it reads `rank.lexical`.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from sqlmodel import Session, col, select

from paperradar.profiles.profile import Profile
from paperradar.rank.evidence import topic_query
from paperradar.rank.learning import vote_agreement
from paperradar.rank.lexical import LexicalIndex, bm25_idf, content_terms, stem, tokenize
from paperradar.rank.stage import load_votes
from paperradar.readers.feedback import topic_votes
from paperradar.store.records import Paper
from paperradar.text import cut

WORD = re.compile(r"[a-z0-9]+")  # as rank.lexical splits words
# Words named per topic, and the length a paper's title is cut to.
TERMS = 5
TITLE_LIMIT = 80
# A 👎 weighs this share of a 👍 in the words: it says less about what the reader wants.
DISLIKE_SHARE = 0.5


@dataclass(frozen=True)
class VoteEffect:
    """What one vote changed: the topic, the paper (short title), and the words gained or lost."""

    topic: str
    topic_title: str
    paper_id: str
    title: str
    value: int
    words: tuple[str, ...]
    liked: int
    disliked: int


@dataclass(frozen=True)
class TopicLearning:
    """What a topic has learned from all its votes."""

    topic: str
    topic_title: str
    liked: tuple[str, ...]  # short titles, newest vote first
    disliked: tuple[str, ...]
    more: tuple[str, ...]  # words its votes weigh up
    less: tuple[str, ...]  # words its votes weigh down
    # How far its votes share a taste the papers show (learning.vote_agreement), 0-1; None
    # before two votes of each kind (or their papers' vectors) are there.
    agreement: float | None


def vote_effect(
    session: Session, profile: Profile, *, topic: str, paper_id: str, value: int
) -> VoteEffect | None:
    """Say what a recorded vote changed for its topic; None for an unknown topic or paper."""
    paper = session.get(Paper, paper_id)
    if paper is None or topic not in profile.topics:
        return None
    weights = _term_weights(session, profile, topic, {paper_id: value})
    ranked = sorted(weights.items(), key=lambda item: (-item[1] * value, item[0]))
    votes = topic_votes(session, profile.name).get(topic)
    return VoteEffect(
        topic=topic,
        topic_title=profile.topics[topic].title,
        paper_id=paper_id,
        title=cut(paper.title, TITLE_LIMIT),
        value=value,
        words=tuple(word for word, weight in ranked[:TERMS] if weight * value > 0),
        liked=len(votes.liked) if votes else 0,
        disliked=len(votes.disliked) if votes else 0,
    )


def topic_learning(session: Session, profile: Profile, model: str) -> list[TopicLearning]:
    """Per topic with votes, in the profile's order: its voted papers, weighted words and how
    far its votes agree (`model`: the embedding model whose vectors the ranking uses)."""
    learned = []
    # The votes the ranking learns from (the newest, with their papers' vectors).
    learning = load_votes(session, model, profile)
    for topic, votes in topic_votes(session, profile.name).items():
        if topic not in profile.topics:
            continue
        values = {paper: 1 for paper in votes.liked} | {paper: -1 for paper in votes.disliked}
        voted = learning.get(topic)
        weights = _term_weights(session, profile, topic, values)
        ranked = sorted(weights.items(), key=lambda item: (-item[1], item[0]))
        titles = _titles(session, values)
        learned.append(
            TopicLearning(
                topic=topic,
                topic_title=profile.topics[topic].title,
                liked=tuple(titles[p] for p in votes.liked if p in titles),
                disliked=tuple(titles[p] for p in votes.disliked if p in titles),
                more=tuple(word for word, weight in ranked[:TERMS] if weight > 0),
                less=tuple(word for word, weight in ranked[::-1][:TERMS] if weight < 0),
                agreement=vote_agreement(voted.vectors, voted.values) if voted else None,
            )
        )
    order = list(profile.topics)
    return sorted(learned, key=lambda item: order.index(item.topic))


def _titles(session: Session, papers: Iterable[str]) -> dict[str, str]:
    rows = session.exec(select(Paper).where(col(Paper.arxiv_id).in_(list(papers))))
    return {paper.arxiv_id: cut(paper.title, TITLE_LIMIT) for paper in rows}


def _term_weights(
    session: Session, profile: Profile, topic: str, values: Mapping[str, int]
) -> dict[str, float]:
    """Each shown word's Rocchio weight over the voted papers, idf from their days' papers."""
    voted = list(session.exec(select(Paper).where(col(Paper.arxiv_id).in_(list(values)))))
    days = {paper.first_announced_on for paper in voted if paper.first_announced_on}
    corpus = list(session.exec(select(Paper).where(col(Paper.first_announced_on).in_(days))))
    corpus_ids = {paper.arxiv_id for paper in corpus}
    corpus += [paper for paper in voted if paper.arxiv_id not in corpus_ids]
    index = LexicalIndex([p.title for p in corpus], [p.abstract for p in corpus])
    known = set(content_terms(tokenize(topic_query(profile.topics[topic]))))
    weights: defaultdict[str, float] = defaultdict(float)
    surfaces: dict[str, Counter[str]] = {}
    for paper in voted:
        text = f"{paper.title} {paper.title} {paper.abstract}"  # the title counts twice
        share = 1.0 if values[paper.arxiv_id] > 0 else -DISLIKE_SHARE
        for term, count in Counter(content_terms(tokenize(text))).items():
            if term in known or term.isdigit():
                continue
            idf = float(bm25_idf(index.size, index.doc_freq(term)))
            weights[term] += share * float(np.log1p(count)) * idf
        _collect_surfaces(text, surfaces)
    return {_surface(term, surfaces): weight for term, weight in weights.items()}


def _collect_surfaces(text: str, surfaces: dict[str, Counter[str]]) -> None:
    for word in WORD.findall(text.lower()):
        surfaces.setdefault(stem(word), Counter())[word] += 1


def _surface(term: str, surfaces: Mapping[str, Counter[str]]) -> str:
    """The word as readers wrote it most often, not its stem (`merging`, not `merg`)."""
    forms: Sequence[tuple[str, int]] = surfaces.get(term, Counter()).most_common(1)
    return forms[0][0] if forms else term
