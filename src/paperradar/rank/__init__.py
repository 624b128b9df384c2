"""Scoring papers against topics: lexical and dense evidence, the index, votes, re-rank."""
