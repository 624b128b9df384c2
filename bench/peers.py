"""The peers' ranking methods, re-implemented over the same pool, profile and vectors.

* BM25: Okapi BM25 of each topic's description and keywords (PaperRadar's own tokenizer).
* TF-IDF + SVM: arxiv-sanity-lite's `compute.py` features and `serve.py` SVM (LinearSVC,
  C=0.01, balanced), trained per topic on the seeds routed to it (and 👍 papers when given)
  against every pool paper, as sanity-lite trains on a tag against the whole library.
* Seed similarity: zotero-arxiv-daily's score, the mean cosine of a candidate to the seed
  papers (its time-decay weights are uniform here: the seeds have no dates added), per topic
  over the seeds routed to it, with the same embedding model as PaperRadar.
* Description similarity: the cosine of a candidate to the topic's title and description.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy.sparse import vstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from paperradar.profiles.profile import Profile
from paperradar.rank.lexical import LexicalIndex

Row = Mapping[str, object]


def _text(row: Row) -> str:
    return f"{row['title']} {row['abstract']}"


def _order(rows: Sequence[Row], scores: np.ndarray) -> list[str]:
    return [str(rows[i]["id"]) for i in np.argsort(-scores, kind="stable")]


def bm25_ranking(rows: Sequence[Row], profile: Profile) -> dict[str, list[str]]:
    """Rank every pool paper per topic by BM25 of the topic's description and keywords."""
    index = LexicalIndex(
        [str(row["title"]) for row in rows], [str(row["abstract"]) for row in rows]
    )
    return {
        key: _order(rows, index.bm25(" ".join([topic.description, *topic.keywords])))
        for key, topic in profile.topics.items()
    }


def svm_ranking(
    rows: Sequence[Row], positives: Mapping[str, Sequence[str]]
) -> dict[str, list[str]]:
    """Rank per topic with arxiv-sanity-lite's TF-IDF + linear SVM; `positives` are texts."""
    vectorizer = TfidfVectorizer(
        strip_accents="unicode",
        lowercase=True,
        analyzer="word",
        stop_words="english",
        token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b",
        ngram_range=(1, 2),
        max_features=20000,
        norm="l2",
        use_idf=True,
        smooth_idf=True,
        sublinear_tf=True,
        max_df=0.1,
        min_df=5,
    )
    pool = vectorizer.fit_transform([_text(row) for row in rows])
    ranking = {}
    for topic, texts in positives.items():
        if not texts:
            ranking[topic] = [str(row["id"]) for row in rows]
            continue
        features = vectorizer.transform(texts)
        x = vstack([pool, features])
        y = np.concatenate([np.zeros(pool.shape[0]), np.ones(len(texts))])
        svm = LinearSVC(class_weight="balanced", max_iter=10000, tol=1e-6, C=0.01)
        svm.fit(x, y)
        ranking[topic] = _order(rows, svm.decision_function(pool))
    return ranking


def similarity_ranking(
    rows: Sequence[Row], vectors: np.ndarray, anchors: Mapping[str, np.ndarray]
) -> dict[str, list[str]]:
    """Rank per topic by the mean cosine to the topic's anchor vectors (seeds or description)."""
    ranking = {}
    for topic, topic_anchors in anchors.items():
        if not len(topic_anchors):
            ranking[topic] = [str(row["id"]) for row in rows]
            continue
        ranking[topic] = _order(rows, (vectors @ topic_anchors.T).mean(axis=1))
    return ranking
