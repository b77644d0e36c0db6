from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest

from ingest.reference import loaders as L
from ingest.reference.pipeline import build_reference_tables, load_reference_data
from warehouse.lake import Lake


@pytest.fixture(scope="module")
def ref() -> dict[str, L.RefResult]:
    return build_reference_tables()


def _csv_rows(rel: str, delimiter: str = ",") -> int:
    with open(L.DATA_DIR / rel, encoding="utf-8-sig", newline="") as fh:
        return sum(1 for _ in csv.DictReader(fh, delimiter=delimiter))


@pytest.mark.parametrize(
    ("table", "source", "delimiter"),
    [
        ("cameras", "cctv/jakarta_cctv_map_sites.csv", ","),
        ("camera_channels", "cctv/jakcctv_public_cameras.csv", ","),
        ("kelurahan", "boundaries/idn-area-data_dki_jakarta_villages.csv", ","),
        ("flood_events_2024", "flood/banjir.csv", ","),
        ("fire_incidents_2024", "fire/Data_Kebakaran_Gabungan.csv", ";"),
        ("water_gate_thresholds", "flood/dsda_pintu_air_siaga_thresholds.csv", ","),
        ("hospital_capacity", "health/rs_online_kemenkes_dki_jakarta.csv", ","),
    ],
)
def test_row_counts_match_source_files(ref: dict[str, L.RefResult], table: str, source: str, delimiter: str) -> None:
    assert ref[table].table.num_rows == _csv_rows(source, delimiter)


def test_expected_sizes(ref: dict[str, L.RefResult]) -> None:
    assert ref["cameras"].table.num_rows == 1289
    assert ref["kelurahan"].table.num_rows == 267
    assert ref["kecamatan"].table.num_rows == 42
    assert ref["kota"].table.num_rows == 5
    # hospitals, puskesmas, floodgates, pumps, RPTRA public spaces (324 rows, one without coordinates)
    assert ref["facilities"].table.num_rows == 191 + 560 + 28 + 67 + 323


@pytest.mark.parametrize(
    ("row_number", "field", "reason", "action"),
    [
        (325, "X/Y", "no coordinates", "excluded"),  # OBJECTID 641, RPTRA Taman Apel
        (17, "WADMKD", "point lies in Pasar Baru", "kept"),  # listed in Kebon Kelapa
        (111, "X/Y", "same point as OBJECTID 107", "kept"),  # Rorotan Indah 2 repeats Rorotan Indah
        (144, "X/Y", "same point as OBJECTID 45", "kept"),  # Intiland Teduh Rawa Buaya placed in Karet Tengsin
    ],
)
def test_public_space_quality_issues_are_reported(
    ref: dict[str, L.RefResult], row_number: int, field: str, reason: str, action: str
) -> None:
    issues = [i for i in ref["facilities"].issues if i.source_file == "public_space/geoportal_rptra_koordinat.csv"]
    assert any((i.row_number, i.field, i.reason, i.action) == (row_number, field, reason, action) for i in issues), (
        issues
    )


def test_public_spaces_are_facilities_with_a_kelurahan(ref: dict[str, L.RefResult]) -> None:
    rows = [r for r in ref["facilities"].table.to_pylist() if r["kind"] == "public_space"]
    assert len(rows) == 323
    assert len({r["facility_id"] for r in rows}) == 323
    assert all(r["name"].startswith("RPTRA ") and r["subtype"] == "RPTRA" for r in rows)
    # every point, Kepulauan Seribu included, resolves to a kelurahan polygon of the Dukcapil layer
    assert all(r["kode_kelurahan"] for r in rows)
    amir = next(r for r in rows if r["facility_id"] == "public_space-rptra-37")
    assert (amir["name"], amir["kode_kelurahan"][:5]) == ("RPTRA Amir Hamzah", "31.71")


def test_every_camera_inside_jakarta_gets_a_kelurahan(ref: dict[str, L.RefResult]) -> None:
    cams = ref["cameras"].table.to_pylist()
    inside = [c for c in cams if L._in_bbox(c["lon"], c["lat"])]
    assert len(inside) == 1289
    assert all(c["kelurahan_code"] for c in inside)
    assert {c["kelurahan_method"] for c in inside} <= {"pip", "nearest"}
    # nearest matches are reported, not hidden
    n_nearest = sum(c["kelurahan_method"] == "nearest" for c in inside)
    assert n_nearest == sum(i.action == "matched_nearest" for i in ref["cameras"].issues)


def test_population_total_and_codes(ref: dict[str, L.RefResult]) -> None:
    kel = ref["kelurahan"].table.to_pylist()
    assert sum(k["population"] or 0 for k in kel) == 11_011_862
    assert all(k["geometry"] for k in kel)
    assert len({k["kode_kelurahan"] for k in kel}) == 267
    seribu = [k for k in kel if k["kode_kota"] == "31.01"]
    assert len(seribu) == 6 and all(k["geometry_source"] == "dukcapil_2019" for k in seribu)


def test_city_code_systems_are_not_mixed(ref: dict[str, L.RefResult]) -> None:
    """Kemenkes kode_rs uses BPS city codes: 3171 is Jakarta Selatan, i.e. Kemendagri 31.74."""
    rows = {r["kode_rs"]: r for r in ref["hospital_capacity"].table.to_pylist()}
    cm = rows["3173014"]  # RSUPN Dr. Cipto Mangunkusumo, Jakarta Pusat
    assert cm["kota"] == "31.71"
    koja = rows["3175016"]  # RSUD Koja, Jakarta Utara
    assert koja["kota"] == "31.72"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Harapan Mulia", "HARAPAN MULYA"),
        ("Pondok Rangon", "PONDOK RANGGON"),
        ("Tanjung Priok", "TANJUNG PRIUK"),
        ("Kampung Tengah", "Tengah"),
        ("Halim Perdana Kusumah", "HALIM PERDANA KUSUMA"),
    ],
)
def test_name_variants_normalise_equal(a: str, b: str) -> None:
    assert L.normalise_name(a) == L.normalise_name(b)


def test_known_source_problems_are_reported(ref: dict[str, L.RefResult]) -> None:
    fire = ref["fire_incidents_2024"].issues
    assert sum("differs from the sum of causes" in i.reason for i in fire) == 6
    kel_issues = ref["kelurahan"].issues
    assert any("TMII" in i.value or "not an administrative" in i.reason for i in kel_issues)
    assert sum("sliver" in i.reason for i in kel_issues) == 2


def test_bad_rows_are_reported_not_dropped(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(L.DATA_DIR, data)
    sites = data / "cctv" / "jakarta_cctv_map_sites.csv"
    lines = sites.read_text(encoding="utf-8").splitlines()
    first = lines[1]
    cols = first.split(",")
    moved = cols.copy()
    moved[0] = "far-away-1"
    moved[7], moved[8] = "-7.80", "110.36"  # Yogyakarta
    lines += [first, ",".join(moved)]  # a duplicate id and a camera outside Jakarta
    sites.write_text("\n".join(lines) + "\n", encoding="utf-8")
    kel = L.load_kelurahan(data)
    cams, _ = L.load_cameras(kel.table, data)
    reasons = [i.reason for i in cams.issues]
    assert cams.source_rows == 1291
    assert cams.table.num_rows == 1290  # duplicate excluded, outside camera kept and flagged
    assert "duplicate site_id" in reasons
    assert "coordinates outside Jakarta" in reasons
    far = next(c for c in cams.table.to_pylist() if c["camera_id"] == "far-away-1")
    assert far["kelurahan_code"] is None


def test_locate_handles_nan_and_far_points(ref: dict[str, L.RefResult]) -> None:
    idx = L.KelurahanIndex.from_table(ref["kelurahan"].table)
    i, method, _ = idx.locate(np.array([106.8272, np.nan, 100.0]), np.array([-6.1754, -6.2, 0.0]))
    assert i[0] >= 0 and method[0] == "pip"  # Monas
    assert list(method[1:]) == ["none", "none"]


@pytest.mark.slow
def test_load_into_lake_is_repeatable(lake: Lake) -> None:
    first = load_reference_data(lake)
    second = load_reference_data(lake)
    assert [(x.table, x.rows) for x in first] == [(x.table, x.rows) for x in second]
    assert lake.scalar("SELECT count(*) FROM cameras") == 1289
    assert lake.scalar("SELECT count(*) FROM reference_issues") == sum(x.issues for x in second)
