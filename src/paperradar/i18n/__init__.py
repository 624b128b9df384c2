"""What a reader reads around the papers, in zh and en: catalogs of words, dates and counts.

Every reader-facing string (digest chrome, bot replies, archive pages) is a key of a catalog in
`messages/<area>.yaml`, with its Chinese and English text side by side::

    header.counts:
      zh: 今日 arXiv 新论文 {candidates} 篇，精选 {picks} 篇
      en:
        one: "{candidates} new papers today, {picks} pick"
        other: "{candidates} new papers today, {picks} picks"

The key used in code is `<area>.<key>` (`digest.header.counts`). A text may differ by count
(CLDR plural categories, through Babel: `one`/`other` in English, `other` only in Chinese).
The catalogs are checked when first loaded (catalog.py): both languages present, the same
placeholders in every form; a key missing at run time is an error, never an English fallback.
"""

from paperradar.i18n.words import LANGUAGES, Language, Words, interface_language, words

__all__ = ["LANGUAGES", "Language", "Words", "interface_language", "words"]
