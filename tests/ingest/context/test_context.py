"""Flood context: Posko Banjir and BMKG CAP 1.2 documents (written by context_fixtures.py) are read, landed with
history, malformed documents and rows quarantined with the reason, and turned into per-camera flood context."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from context_fixtures import INSIDE, NOW, OUTSIDE, THRESHOLDS, bmkg_document, posko_banjir_document

from ingest.context.flood import FloodContextProvider
from ingest.context.landing import ingest_context_documents, land_document, pending_documents
from ingest.context.readers import MalformedDocumentError, gate_level, parse_bmkg_cap, parse_posko_banjir
from warehouse.lake import Lake, LakeConfig
from warehouse.migrations import migrate
from warehouse.object_store import LocalObjectStore


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    lk = Lake(LakeConfig(root=tmp_path / "pantau-data"))
    migrate(lk)
    lk.append("water_gate_thresholds", pa.Table.from_pylist(THRESHOLDS))
    yield lk
    lk.close()


@pytest.mark.parametrize(
    ("cm", "level"), [(60.0, "Siaga 4"), (750.0, "Siaga 3"), (860.0, "Siaga 2"), (1000.0, "Siaga 1")]
)
def test_gate_level_from_thresholds(cm: float, level: str) -> None:
    assert gate_level(cm, THRESHOLDS[0]) == level
    assert gate_level(cm, None) is None


def test_posko_banjir_rows_and_rejects() -> None:
    p = parse_posko_banjir(posko_banjir_document(NOW, 860.0), THRESHOLDS, source_key="k")
    assert [(r["gate_id"], r["gate_level"], r["status"]) for r in p.rows] == [
        ("122", "Siaga 2", "Siaga 3"),
        ("116", "Siaga 4", "Siaga 4"),
    ]
    assert p.rows[0]["observed_at"] == NOW.replace(second=0)  # WIB without offset -> UTC
    reasons = [r for _n, r, _raw in p.rejects]
    assert len(reasons) == 3 and "bad height" in reasons[0] and "bad time" in reasons[1] and "outside" in reasons[2]


@pytest.mark.parametrize("doc", [b"<html>502 Bad Gateway</html>", b'{"data": 5}', b"\xff\xfe garbage", b""])
def test_malformed_posko_banjir_document(doc: bytes) -> None:
    with pytest.raises(MalformedDocumentError):
        parse_posko_banjir(doc, THRESHOLDS)


def test_bmkg_cap_rows_and_malformed_documents() -> None:
    p = parse_bmkg_cap(bmkg_document(NOW), source_key="k")
    assert len(p.rows) == 1 and not p.rejects
    w = p.rows[0]
    assert (w["identifier"], w["severity"], w["area_desc"]) == ("pantau-bmkg-nowcast-1-v1", "Severe", "Kampung Melayu")
    assert w["expires"] == NOW + timedelta(hours=3) and w["geometry"].startswith('{"type": "MultiPolygon"')
    with pytest.raises(MalformedDocumentError, match="not XML"):
        parse_bmkg_cap(b"<alert")
    broken = bmkg_document(NOW).replace(b"<severity>Severe</severity>", b"<severity>Terrible</severity>")
    with pytest.raises(MalformedDocumentError, match="XSD"):
        parse_bmkg_cap(broken)


def test_documents_land_with_history_and_quarantine(lake: Lake, tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "store")
    land_document(
        store, "posko_banjir", posko_banjir_document(NOW - timedelta(hours=1), 700.0), NOW - timedelta(hours=1)
    )
    land_document(store, "posko_banjir", posko_banjir_document(NOW, 860.0, bad=False), NOW)
    land_document(store, "bmkg", bmkg_document(NOW), NOW)
    land_document(store, "bmkg", b"<not-cap/>", NOW + timedelta(seconds=1))
    assert len(pending_documents(lake, store)) == 4
    res = ingest_context_documents(lake, store)
    assert (res.documents, res.readings, res.warnings) == (4, 4, 1)
    assert (res.quarantined_documents, res.quarantined_rows) == (1, 3)
    assert pending_documents(lake, store) == [] and ingest_context_documents(lake, store).documents == 0
    hist = lake.query(
        "SELECT height_cm, gate_level FROM water_gate_readings WHERE gate_id = '122' ORDER BY observed_at"
    ).to_pylist()
    assert hist == [{"height_cm": 700.0, "gate_level": "Siaga 4"}, {"height_cm": 860.0, "gate_level": "Siaga 2"}]
    q = lake.query("SELECT reason FROM context_quarantine WHERE row_no = 0").column(0).to_pylist()
    assert len(q) == 1 and "not a CAP 1.2 alert" in q[0]
    ledger = {r["status"]: r["n"] for r in lake.query(
        "SELECT status, count(*) AS n FROM context_documents GROUP BY 1").to_pylist()}  # fmt: skip
    assert ledger == {"loaded": 3, "quarantined": 1}


def test_flood_context_per_camera(lake: Lake, tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "store")
    provider = FloodContextProvider(lake, ttl_s=0)
    assert provider(*INSIDE) is None  # nothing landed: no context (and never a veto)
    land_document(store, "bmkg", bmkg_document(NOW), NOW)
    ingest_context_documents(lake, store)
    inside, outside = provider(*INSIDE), provider(*OUTSIDE)
    assert inside is not None and "BMKG" in inside["flood"] and outside is None
    land_document(store, "posko_banjir", posko_banjir_document(NOW, 860.0, bad=False), NOW)
    ingest_context_documents(lake, store)
    outside = provider(*OUTSIDE)
    assert outside is not None and "Manggarai 2 at Siaga 2" in outside["flood"]
    # Jaki flood complaints in the camera's kelurahan back it too
    lake.append(
        "jaki_complaints",
        pa.Table.from_pylist(
            [{"ticket_id": "t1", "category": "flood", "kelurahan_code": "31.74.02.1003", "created_at": NOW,
              "status": "open"}]
        ),
    )  # fmt: skip
    provider.refresh(NOW)
    backed = provider(*OUTSIDE, "31.74.02.1003")
    assert backed is not None and "1 Jaki flood complaint(s)" in backed["flood"]
    assert "Jaki" not in (provider(*OUTSIDE, "31.71.01.1001") or {}).get("flood", "")
    # an expired warning and an old reading back nothing
    provider.refresh(NOW + timedelta(hours=5))
    assert provider._warnings == [] and provider._gates == [] and provider._complaints == {}
