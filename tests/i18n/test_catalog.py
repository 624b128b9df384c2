import re
from datetime import date
from pathlib import Path

import pytest

from paperradar.errors import ConfigError
from paperradar.i18n import interface_language, words
from paperradar.i18n.catalog import catalog, parse_area

SOURCES = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u3400-\u9fff]")


def test_every_message_has_both_languages_and_the_english_has_no_chinese() -> None:
    for key, texts in catalog().items():
        assert set(texts) == {"zh", "en"}, key
        for text in texts["en"].values():
            assert not CJK.search(text), f"{key}: Chinese in the English text"


def test_a_message_without_english_is_refused() -> None:
    with pytest.raises(ConfigError, match="needs exactly `zh` and `en`"):
        parse_area("digest", "greeting:\n  zh: 你好\n")


def test_placeholders_must_agree_between_languages() -> None:
    with pytest.raises(ConfigError, match="different placeholders"):
        parse_area("digest", "count:\n  zh: 共 {n} 篇\n  en: '{count} papers'\n")


def test_plural_forms_follow_the_language() -> None:
    area = parse_area(
        "t", "picks:\n  zh: 精选 {count} 篇\n  en: {one: '{count} pick', other: '{count} picks'}\n"
    )
    assert area["t.picks"]["en"] == {"one": "{count} pick", "other": "{count} picks"}


def test_words_fill_in_dates_and_lists_per_language() -> None:
    assert words("zh").day(date(2025, 10, 16)) == "10月16日 星期四"
    assert words("en").day(date(2025, 10, 16), year=True) == "Thu 16 Oct 2025"
    assert words("zh").join(["a", "b"]) == "a、b"
    assert words("en")("common.product") == "PaperRadar"


def test_the_first_language_a_reader_lists_is_the_interface_language() -> None:
    assert interface_language(["zh", "en"]) == "zh"
    assert interface_language(["en", "zh"]) == "en"
    assert interface_language(["en"]) == "en"


def test_every_key_the_code_and_templates_name_is_in_the_catalog() -> None:
    """A `t("area.key")` / `words("area.key")` in code or a template names a real message."""
    used = set()
    pattern = re.compile(r"""\b(?:t|words|_w)\(\s*["']([a-z_]+\.[a-z0-9_.]+)["']""")
    for folder in ("src/paperradar", "bot"):
        for path in (SOURCES / folder).rglob("*"):
            if path.suffix in {".py", ".j2"}:
                used |= set(pattern.findall(path.read_text(encoding="utf-8")))
    missing = sorted(key for key in used if key not in catalog())
    assert not missing
