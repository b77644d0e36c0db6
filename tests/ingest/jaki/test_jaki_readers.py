"""Readers + ingestion on good and broken exports: clear messages, quarantine, exact accounting."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from ingest.jaki.ingest import JakiConfig, ingest_bytes, ingest_landing
from ingest.jaki.readers import SchemaDriftError
from ingest.jaki.schemas import SPECS
from simulate.jaki import JakiSimConfig, corrupt_export, generate_day, to_export_bytes

SALT = "test-salt-0123456789"
CFG = JakiConfig(salt=SALT, run_ge=False)  # the GE contract is exercised in test_good_file_loads_every_row
GE_CFG = JakiConfig(salt=SALT, ge_sample_rows=5_000)
DAY = date(2026, 11, 23)


@pytest.fixture(scope="module")
def day_frames() -> dict[str, pl.DataFrame]:
    sim = JakiSimConfig(
        day=DAY,
        usage_events=2_000,
        complaints=400,
        health_requests=100,
        fast_cash=100,
        panic_presses=100,
        hospital_every_min=480,
        parking_every_min=240,
    )
    return generate_day(sim)


def _quarantine(lake, source: str) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    return pl.from_arrow(
        lake.query(
            "SELECT line, column_name, value, reason, check_name FROM jaki_quarantine WHERE source_file = ?", [source]
        )
    )  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("table", "fmt"),
    [
        ("usage_events", "csv"),
        ("usage_events", "parquet"),
        ("complaints", "jsonl"),
        ("hospital_beds", "csv"),
        ("parking_occupancy", "parquet"),
        ("panic_button", "jsonl"),
        ("health_requests", "csv"),
        ("fast_cash", "parquet"),
    ],
)
def test_good_file_loads_every_row(lake, day_frames, table: str, fmt: str) -> None:
    key = SPECS[table].keys[0]
    df = day_frames[table].with_columns(pl.col(key) + f"-{fmt}")
    source = f"landing/jaki/{table}/good.{fmt}"
    st = ingest_bytes(lake, to_export_bytes(df, fmt), table, source, GE_CFG)  # type: ignore[arg-type]
    assert st.status == "loaded"
    assert st.rows_read == df.height == st.rows_accepted
    assert st.rows_quarantined == 0 and st.balanced
    assert st.ge_success is True
    assert lake.scalar(f"SELECT count(*) FROM {SPECS[table].table} WHERE source_file = ?", [source]) == df.height


CASES = [
    # (format, defect, expected check name in the quarantine)
    ("csv", "truncated", "csv_parse"),
    ("csv", "wrong_delimiter", "csv_parse"),
    ("csv", "bad_encoding", "csv_parse"),
    ("csv", "bad_timestamp", "expect_column_values_to_match_strftime_format"),
    ("csv", "out_of_range", "expect_column_values_to_be_between"),
    ("csv", "duplicate_id", "expect_column_values_to_be_unique"),
    ("csv", "unknown_category", "expect_column_values_to_be_in_set"),
    ("jsonl", "truncated", "jsonl_parse"),
    ("jsonl", "bad_encoding", "jsonl_parse"),
    ("jsonl", "bad_timestamp", "expect_column_values_to_match_strftime_format"),
    ("jsonl", "out_of_range", "expect_column_values_to_be_between"),
    ("jsonl", "duplicate_id", "expect_column_values_to_be_unique"),
    ("jsonl", "unknown_category", "expect_column_values_to_be_in_set"),
    ("parquet", "bad_timestamp", "expect_column_values_to_match_strftime_format"),
    ("parquet", "out_of_range", "expect_column_values_to_be_between"),
    ("parquet", "duplicate_id", "expect_column_values_to_be_unique"),
    ("parquet", "unknown_category", "expect_column_values_to_be_in_set"),
]


@pytest.mark.parametrize(("fmt", "defect", "check"), CASES)
def test_broken_rows_are_quarantined_with_reasons(lake, day_frames, fmt: str, defect: str, check: str) -> None:
    df = day_frames["complaints"].with_columns(pl.col("ticket_id") + f"-{fmt}-{defect}")
    data, truth = corrupt_export(df, "complaints", fmt, 0.03, seed=7, kinds=(defect,))  # type: ignore[arg-type]
    assert truth.count(defect) == round(0.03 * df.height)
    source = f"landing/jaki/complaints/broken-{defect}.{fmt}"
    st = ingest_bytes(lake, data, "complaints", source, CFG)
    q = _quarantine(lake, source)
    # exactly the broken lines, each with its reason
    assert sorted(q["line"].to_list()) == sorted(truth.lines)
    assert set(q["check_name"].to_list()) == {check}
    assert q["reason"].str.len_chars().min() > 10
    assert st.rows_read == df.height
    assert st.rows_quarantined == truth.count()
    assert st.rows_accepted == df.height - truth.count()
    assert st.balanced
    assert lake.scalar("SELECT count(*) FROM jaki_complaints WHERE source_file = ?", [source]) == st.rows_accepted
    if defect == "out_of_range":
        assert set(q["column_name"].to_list()) == {"lat"} and set(q["value"].to_list()) == {"12.5"}


def test_mixed_defects_usage_csv_accounting_exact(lake, day_frames) -> None:
    df = day_frames["usage_events"].with_columns(pl.col("event_id") + "-mixed")
    data, truth = corrupt_export(df, "usage_events", "csv", 0.05, seed=3)
    assert {"truncated", "wrong_delimiter", "bad_encoding", "bad_timestamp", "duplicate_id"} <= set(
        truth.lines.values()
    )
    st = ingest_bytes(lake, data, "usage_events", "mixed.csv", CFG)
    assert st.rows_read == df.height
    assert (st.rows_accepted, st.rows_quarantined) == (df.height - truth.count(), truth.count())
    q = _quarantine(lake, "mixed.csv")
    assert sorted(q["line"].to_list()) == sorted(truth.lines)


def test_truncated_file_last_line_cut(lake, day_frames) -> None:
    df = day_frames["panic_button"].with_columns(pl.col("panic_id") + "-cut")
    data = to_export_bytes(df, "csv")
    cut = data[: len(data) - 40]  # the upload stopped mid-line
    st = ingest_bytes(lake, cut, "panic_button", "cut.csv", CFG)
    assert st.rows_read == df.height and st.rows_quarantined == 1 and st.balanced
    q = _quarantine(lake, "cut.csv")
    assert q["line"].to_list() == [df.height + 1]
    assert "truncated" in q["reason"][0]


def test_wrong_delimiter_file_is_rejected_with_clear_message(lake, day_frames) -> None:
    buf = day_frames["fast_cash"].with_columns(pl.col("application_id") + "-semi").write_csv(separator=";").encode()
    with pytest.raises(SchemaDriftError, match=r"wrong delimiter.*';'"):
        ingest_bytes(lake, buf, "fast_cash", "semi.csv", CFG)
    row = lake.query("SELECT status, message FROM jaki_ingested_files WHERE source_file = 'semi.csv'").to_pylist()
    assert row[0]["status"] == "rejected" and "delimiter" in row[0]["message"]
    # read deliberately with the declared delimiter: loads
    st = ingest_bytes(lake, buf, "fast_cash", "semi.csv", CFG, delimiter=";")
    assert st.rows_accepted == day_frames["fast_cash"].height


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.with_columns(pl.lit("x").alias("surprise")), r"unexpected columns \['surprise'\]"),
        (lambda d: d.drop("feature"), r"missing required columns \['feature'\]"),
        (lambda d: d.rename({"feature": "feat"}), r"rename map.*'feat': 'feature'"),
    ],
)
@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_schema_drift_is_an_error(lake, day_frames, mutate, message: str, fmt: str) -> None:
    data = to_export_bytes(mutate(day_frames["usage_events"].head(50)), fmt)  # type: ignore[arg-type]
    with pytest.raises(SchemaDriftError, match=message):
        ingest_bytes(lake, data, "usage_events", f"drift.{fmt}", CFG)
    assert lake.scalar("SELECT count(*) FROM jaki_usage_events WHERE source_file = ?", [f"drift.{fmt}"]) == 0


def test_declared_rename_is_applied(lake, day_frames) -> None:
    df = (
        day_frames["usage_events"]
        .head(100)
        .with_columns(pl.col("event_id") + "-ren")
        .rename({"feature": "fitur", "kelurahan_code": "kode_kelurahan"})
    )
    st = ingest_bytes(lake, to_export_bytes(df, "csv"), "usage_events", "renamed.csv", CFG)
    assert st.rows_accepted == 100


def test_parquet_wrong_type_is_an_error_not_a_coercion(lake, day_frames) -> None:
    df = day_frames["hospital_beds"].head(20).with_columns(pl.col("capacity").cast(pl.String))
    with pytest.raises(SchemaDriftError, match=r"capacity: (string|large_string).*expected int"):
        ingest_bytes(lake, to_export_bytes(df, "parquet"), "hospital_beds", "types.parquet", CFG)


def test_jsonl_wrong_json_type_is_quarantined(lake) -> None:
    good = '{"snapshot_at":"2026-11-20T10:00:00+07:00","kode_rs":"3171012","hospital_name":"RSUP Fatmawati","bed_type":"icu","capacity":20,"available":5}'
    bad = good.replace('"capacity":20', '"capacity":"20"')
    st = ingest_bytes(lake, (good + "\n" + bad + "\n").encode(), "hospital_beds", "t.jsonl", CFG)
    assert (st.rows_read, st.rows_accepted, st.rows_quarantined) == (2, 1, 1)
    q = _quarantine(lake, "t.jsonl")
    assert q["column_name"].to_list() == ["capacity"] and "expected number, got str" in q["reason"][0]


def test_naive_timestamp_is_not_guessed(lake) -> None:
    rows = "event_id,event_time,feature,action,kelurahan_code,platform,user_id\n"
    rows += "n1,2026-11-23T10:00:00,home,open,31.73.03.1006,android,62811\n"
    rows += "n2,2026-11-23T10:00:00Z,home,open,31.73.03.1006,android,62811\n"
    st = ingest_bytes(lake, rows.encode(), "usage_events", "naive.csv", CFG)
    assert (st.rows_accepted, st.rows_quarantined) == (1, 1)
    got = lake.scalar("SELECT event_time FROM jaki_usage_events WHERE source_file = 'naive.csv'")
    assert str(got).startswith("2026-11-23 10:00:00")


def test_same_file_twice_no_duplicates(lake, local_store, day_frames) -> None:
    df = day_frames["complaints"].with_columns(pl.col("ticket_id") + "-twice")
    data, truth = corrupt_export(df, "complaints", "csv", 0.02, seed=1)
    key = "landing/jaki/complaints/dt=2026-11-23/a.csv"
    local_store.put_bytes(key, data)
    first = ingest_landing(lake, local_store, CFG, tables=["complaints"])
    again = ingest_landing(lake, local_store, CFG, tables=["complaints"])
    assert [s.status for s in first] == ["loaded"] and [s.status for s in again] == ["skipped"]
    n = lake.scalar("SELECT count(*) FROM jaki_complaints WHERE ticket_id LIKE '%-twice'")
    assert n == df.height - truth.count()
    assert lake.scalar("SELECT count(*) FROM jaki_quarantine WHERE source_file = ?", [key]) == truth.count()
    # the same rows under another name (different bytes): row keys keep the table duplicate-free
    copy = to_export_bytes(df.head(100), "csv")  # the original, uncorrupted rows
    local_store.put_bytes("landing/jaki/complaints/dt=2026-11-23/b.csv", copy)
    (st,) = [s for s in ingest_landing(lake, local_store, CFG, tables=["complaints"]) if s.status == "loaded"]
    assert st.rows_read == 100 and st.balanced
    assert st.rows_quarantined == 100 - st.rows_accepted
    # every copied row is either new (its first copy was a broken row) or quarantined as already loaded
    assert st.rows_accepted == len([ln for ln in truth.lines if ln - 2 < 100 and truth.lines[ln] != "duplicate_id"])
    assert lake.scalar("SELECT count(*) FROM jaki_complaints WHERE ticket_id LIKE '%-twice'") == n + st.rows_accepted
    assert lake.scalar("SELECT count(*) - count(DISTINCT ticket_id) FROM jaki_complaints") == 0


def test_free_text_with_personal_data_is_dropped(lake) -> None:
    head = "ticket_id,created_at,category,description,lat,lon,kelurahan_code,status,resolved_at,channel,reporter_id,reporter_name,reporter_phone\n"
    base = "{id},2026-11-19T08:00:00+07:00,waste,{text},-6.2,106.8,31.73.03.1006,open,,jaki_app,62812345678,Budi Santoso,081234567890\n"
    texts = [
        "Sampah menumpuk",
        "Hubungi saya di 0812-3456-7890",
        "NIK 3173012345678901",
        "Bapak Joko minta tolong",
        "Mail a@b.co",
    ]
    data = head + "".join(base.format(id=f"T{i}", text=t) for i, t in enumerate(texts))
    st = ingest_bytes(lake, data.encode(), "complaints", "pii.csv", CFG)
    assert st.rows_accepted == 5 and st.fields_redacted == 4
    assert sorted(st.dropped_columns) == ["reporter_name", "reporter_phone"]
    kept = (
        lake.query("SELECT description FROM jaki_complaints WHERE source_file = 'pii.csv' AND description IS NOT NULL")
        .column(0)
        .to_pylist()
    )
    assert kept == ["Sampah menumpuk"]


@pytest.mark.services
def test_landing_zone_on_s3(lake, day_frames, s3_server, s3_bucket) -> None:  # type: ignore[no-untyped-def]
    from warehouse.object_store import S3ObjectStore

    store = S3ObjectStore(s3_server["endpoint"], s3_bucket, s3_server["access_key"], s3_server["secret_key"])
    df = day_frames["parking_occupancy"].with_columns(pl.col("parking_id") + "-s3")
    data, truth = corrupt_export(df, "parking_occupancy", "parquet", 0.05, seed=4)
    key = "landing/jaki/parking_occupancy/dt=2026-11-23/p.parquet"
    store.put_bytes(key, data)
    (st,) = ingest_landing(lake, store, CFG, tables=["parking_occupancy"])
    assert st.status == "loaded" and st.source_file == key
    assert (st.rows_read, st.rows_quarantined) == (df.height, truth.count())
    assert [s.status for s in ingest_landing(lake, store, CFG, tables=["parking_occupancy"])] == ["skipped"]
