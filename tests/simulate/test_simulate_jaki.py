"""Synthetic Jaki generator: real reference structure, cycles, rain-driven floods, ground truth of defects."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from ingest.jaki.readers import read_export
from ingest.jaki.schemas import SPECS, known_kelurahan_codes
from simulate.jaki import (
    JakiSimConfig,
    corrupt_export,
    generate_complaints,
    generate_hospital_beds,
    generate_parking,
    generate_usage_events,
    hospitals,
    kelurahan,
    parking_locations,
)

MONDAY = date(2026, 11, 23)


def _local_hour(s: pl.Series) -> np.ndarray:
    return s.str.slice(11, 2).cast(pl.Int32).to_numpy()


def test_usage_follows_population_and_diurnal_cycle() -> None:
    ev = generate_usage_events(JakiSimConfig(day=MONDAY, usage_events=200_000))
    assert ev.height == 200_000 and ev["event_id"].n_unique() == 200_000
    assert set(ev["kelurahan_code"].unique()) <= known_kelurahan_codes()
    kel = kelurahan()
    counts = ev.group_by("kelurahan_code").len()
    pop = dict(zip(kel.codes.tolist(), kel.population.tolist(), strict=True))
    r = np.corrcoef(counts["len"].to_numpy(), [pop[c] for c in counts["kelurahan_code"]])[0, 1]
    assert r > 0.8
    hours = np.bincount(_local_hour(ev["event_time"]), minlength=24)
    assert hours[19] > 5 * hours[3]  # evening peak vs night
    assert ev["event_time"].str.ends_with("+07:00").all()


@pytest.mark.parametrize(("kw", "hour_hi", "hour_lo"), [({"ramadan": True}, 3, 18), ({"ramadan": False}, 18, 3)])
def test_ramadan_shifts_activity_to_sahur(kw: dict, hour_hi: int, hour_lo: int) -> None:  # type: ignore[type-arg]
    ev = generate_usage_events(JakiSimConfig(day=MONDAY, usage_events=50_000, **kw))
    hours = np.bincount(_local_hour(ev["event_time"]), minlength=24)
    assert hours[hour_hi] > hours[hour_lo]


def test_weekend_is_quieter_than_weekday() -> None:
    sat = JakiSimConfig(day=date(2026, 11, 28), usage_events=1000, complaints=10)
    mon = JakiSimConfig(day=MONDAY, usage_events=1000, complaints=10)
    p_sat = generate_parking(sat)["occupied"].sum()
    p_mon = generate_parking(mon)["occupied"].sum()
    assert p_sat < p_mon


def test_flood_complaints_follow_rain_and_camera_scores() -> None:
    wet = tuple([0.0] * 8 + [30.0] * 2 + [0.0] * 14)  # rain 08-10 WIB
    dry = tuple([0.0] * 24)
    c_wet = generate_complaints(JakiSimConfig(day=MONDAY, complaints=5000, rain_mm=wet))
    c_dry = generate_complaints(JakiSimConfig(day=MONDAY, complaints=5000, rain_mm=dry))
    flood_wet = c_wet.filter(pl.col("category") == "flood")
    assert flood_wet.height > 3 * c_dry.filter(pl.col("category") == "flood").height
    hours = _local_hour(flood_wet["created_at"])
    assert ((hours >= 8) & (hours < 10)).mean() > 0.8
    target = "31.72.01.1004"
    boosted = generate_complaints(JakiSimConfig(day=MONDAY, complaints=5000, rain_mm=wet, camera_flood={target: 1.0}))
    n = lambda df: df.filter((pl.col("category") == "flood") & (pl.col("kelurahan_code") == target)).height  # noqa: E731
    assert n(boosted) > n(c_wet)


def test_real_hospitals_and_parking() -> None:
    beds = generate_hospital_beds(JakiSimConfig(day=MONDAY, hospital_every_min=720))
    assert set(beds["kode_rs"]) == {h[0] for h in hospitals()} and len(hospitals()) > 150
    assert (beds["available"] <= beds["capacity"]).all()
    park = generate_parking(JakiSimConfig(day=MONDAY, parking_every_min=360))
    assert set(park["parking_id"]) == {p["parking_id"] for p in parking_locations()}


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_corruption_ground_truth_matches_reader_lines(fmt: str) -> None:
    df = generate_usage_events(JakiSimConfig(day=MONDAY, usage_events=2000))
    data, truth = corrupt_export(df, "usage_events", fmt, 0.02, seed=2)  # type: ignore[arg-type]
    assert truth.count() == 40
    raw = read_export(data, SPECS["usage_events"], f"x.{fmt}")
    assert raw.rows_read == 2000
    line_level = {ln for ln, k in truth.lines.items() if k in ("truncated", "wrong_delimiter", "bad_encoding")}
    assert {r.line for r in raw.rejects} == line_level
    if fmt != "parquet":
        assert line_level
