"""Bilingual summaries of the picks, checked for faithfulness; affiliations, translation."""
