"""GE table contract, privacy primitives and the data dictionary staying in sync with the specs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from ingest.jaki.ingest import JakiConfig
from ingest.jaki.privacy import SaltError, contains_personal_data, hash_id, hash_series
from ingest.jaki.schemas import HOSPITAL_BEDS, USAGE, data_dictionary_markdown
from ingest.jaki.validate import expectation_plan, run_ge

DOC = Path(__file__).resolve().parents[3] / "docs" / "jaki_data_dictionary.md"


def _usage(**over: list) -> pl.DataFrame:  # type: ignore[type-arg]
    base = {
        "event_id": ["a", "b"],
        "event_time": [datetime(2026, 11, 23, tzinfo=UTC)] * 2,
        "feature": ["home", "news"],
        "action": ["open", "view"],
        "kelurahan_code": ["31.71.01.1001", "31.73.03.1006"],
        "platform": ["android", None],
        "user_hash": [hash_id("1", "saltsalt"), hash_id("2", "saltsalt")],
    }
    base.update(over)
    return pl.DataFrame(base)


@pytest.mark.parametrize(
    ("over", "failed"),
    [
        ({}, set()),
        ({"feature": ["home", "teleport"]}, {"in_set__feature"}),
        ({"user_hash": ["628123456789", hash_id("2", "saltsalt")]}, {"hashed__user_hash"}),
        ({"event_id": ["a", "a"]}, {"unique__event_id"}),
        ({"kelurahan_code": ["31.71.01.1001", "31.99.99.9999"]}, {"known_kelurahan__kelurahan_code"}),
        ({"action": [None, "view"]}, {"not_null__action"}),
    ],
)
def test_ge_suite_flags_each_broken_property(over: dict, failed: set) -> None:  # type: ignore[type-arg]
    rep = run_ge(_usage(**over), USAGE, stored=True)
    assert {o.name for o in rep.failed} == failed
    assert rep.success is (not failed)


def test_ge_pair_rule_on_beds() -> None:
    df = pl.DataFrame(
        {
            "snapshot_at": [datetime(2026, 11, 23, tzinfo=UTC)] * 2,
            "kode_rs": ["1", "2"],
            "hospital_name": ["RS A", "RS B"],
            "bed_type": ["icu", "icu"],
            "capacity": [10, 5],
            "available": [3, 6],
        }
    )
    rep = run_ge(df, HOSPITAL_BEDS, stored=True)
    assert {o.name for o in rep.failed} == {"pair__capacity__available"}


def test_plan_names_are_unique() -> None:
    names = [p[0] for p in expectation_plan(USAGE)]
    assert len(names) == len(set(names))


def test_hmac_hashing() -> None:
    s = pl.Series(["628111", None, "628222", "628111"])
    h = hash_series(s, "secret-salt")
    assert h[0] == h[3] == hash_id("628111", "secret-salt") and h[1] is None
    assert hash_id("628111", "other-salt!") != h[0]  # keyed: a different salt gives another hash
    with pytest.raises(SaltError):
        JakiConfig(salt="")


@pytest.mark.parametrize(
    ("text", "personal"),
    [
        ("Sampah menumpuk di RT 05", False),
        ("Jalan rusak 30 cm", False),
        ("hubungi 0812-3456-7890", True),
        ("WA +62 813 1234 5678", True),
        ("NIK 3173012345678901", True),
        ("kirim ke warga@mail.com", True),
        ("Ibu Sari minta tolong", True),
        ("nama saya Budi", True),
    ],
)
def test_personal_data_detection(text: str, personal: bool) -> None:
    assert pl.select(contains_personal_data(pl.lit(text))).item() is personal


def test_data_dictionary_in_sync() -> None:
    assert data_dictionary_markdown() in DOC.read_text(encoding="utf-8")
