"""`Words`: the catalogs bound to one language, with the dates and lists of that language."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache

from babel import Locale
from babel.dates import format_date

from paperradar.i18n.catalog import LANGUAGES, Language, catalog

__all__ = ["LANGUAGES", "Language", "Words", "interface_language", "words"]

LOCALES: dict[Language, str] = {"zh": "zh_Hans_CN", "en": "en_GB"}
# Babel date patterns: "10月16日 星期四" and "Thu 16 Oct".
DAY_PATTERNS: dict[Language, str] = {"zh": "M月d日 EEEE", "en": "EEE d MMM"}
LIST_SEPARATORS: dict[Language, str] = {"zh": "、", "en": ", "}


@dataclass(frozen=True)
class Words:
    """The catalogs in one language: `words("zh")("common.product")` is 论文雷达 PaperRadar."""

    language: Language

    def __call__(self, key: str, /, count: int | None = None, **values: object) -> str:
        """The text of `key` in this language, `count` choosing its plural form."""
        forms = catalog()[key][self.language]
        form = "other"
        if count is not None:
            form = Locale.parse(LOCALES[self.language]).plural_form(count)
            values.setdefault("count", count)
        return forms.get(form, forms["other"]).format(**values)

    def day(self, day: date, *, year: bool = False) -> str:
        """A day as a reader writes it: `2025年10月16日 星期四` / `Thu 16 Oct 2025`."""
        pattern = DAY_PATTERNS[self.language]
        if year:
            pattern = f"y年{pattern}" if self.language == "zh" else f"{pattern} y"
        return format_date(day, pattern, locale=LOCALES[self.language])

    def join(self, items: Iterable[str]) -> str:
        """List items with this language's separator."""
        return LIST_SEPARATORS[self.language].join(items)

    @property
    def html_lang(self) -> str:
        """The `lang` attribute of a page in this language."""
        return "zh-Hans" if self.language == "zh" else "en"


@cache
def words(language: str) -> Words:
    """The words of a language (`zh` or `en`; anything else is a programming error)."""
    if language not in LANGUAGES:
        raise ValueError(f"no catalog for language {language!r}")
    return Words(language)


def interface_language(languages: Sequence[str]) -> Language:
    """The language of the chrome for a reader of `languages`: the first they list.

    A reader of both (`[zh, en]`) gets Chinese chrome and both languages of every paper.
    """
    for language in languages:
        if language in LANGUAGES:
            return language
    return LANGUAGES[0]
