"""Every UI string exists in both languages and every key the pages use is defined."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from dashboards.i18n import LANGS, STRINGS, translate

DASHBOARDS = Path(__file__).resolve().parents[2] / "dashboards"
KEY_USE = re.compile(r"""\bt\(\s*["']([a-z0-9_]+)["']""")


def used_keys() -> set[str]:
    keys: set[str] = set()
    for path in DASHBOARDS.rglob("*.py"):
        keys |= set(KEY_USE.findall(path.read_text()))
    return keys


def test_pages_use_only_defined_keys() -> None:
    used = used_keys()
    assert len(used) > 100
    assert sorted(used - set(STRINGS)) == []


@pytest.mark.parametrize("key", sorted(STRINGS))
def test_both_languages_present_with_the_same_placeholders(key: str) -> None:
    ind, eng = STRINGS[key]
    assert ind.strip() and eng.strip()
    fields = [{f for _, f, _, _ in string.Formatter().parse(text) if f} for text in (ind, eng)]
    assert fields[0] == fields[1]


@pytest.mark.parametrize(
    ("key", "lang", "kwargs", "expected"),
    [
        ("level_Awas", "id", {}, "Awas"),
        ("level_Awas", "en", {}, "Warning"),
        ("hours_n", "id", {"n": 24}, "24 jam"),
        ("days_n", "en", {"n": 7}, "7 days"),
        ("not_a_key", "id", {}, "not_a_key"),
    ],
)
def test_translate(key: str, lang: str, kwargs: dict[str, int], expected: str) -> None:
    assert lang in LANGS
    assert translate(key, lang, **kwargs) == expected  # type: ignore[arg-type]


def test_every_jaki_feature_and_complaint_category_has_labels_in_both_languages() -> None:
    from dashboards.i18n import CODE_LABELS
    from ingest.jaki.schemas import COMPLAINT_CATEGORIES, USAGE_FEATURES

    assert set(CODE_LABELS["feature"]) == set(USAGE_FEATURES)
    assert set(CODE_LABELS["category"]) == set(COMPLAINT_CATEGORIES)
    for labels in CODE_LABELS.values():
        for ind, en in labels.values():
            assert ind and en and "_" not in ind + en


@pytest.mark.parametrize(
    ("kind", "code", "lang", "label"),
    [
        ("feature", "panic_button", "id", "Tombol darurat"),
        ("feature", "panic_button", "en", "Panic button"),
        ("category", "fallen_tree", "id", "Pohon tumbang"),
        ("category", "brand_new_code", "id", "brand_new_code"),  # unknown codes are shown as they are
        ("no_such_kind", "x", "en", "x"),
    ],
)
def test_code_label(kind: str, code: str, lang: str, label: str) -> None:
    from dashboards.i18n import code_label

    assert code_label(kind, code, lang) == label  # type: ignore[arg-type]
