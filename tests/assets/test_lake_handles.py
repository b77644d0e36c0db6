"""Every lake handle an asset or check opens is closed when it returns (reference, Jaki, planning)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from assets import jaki, planning, reference
from orchestration.resources import LakeResource, ObjectStoreResource, SettingsResource
from warehouse.lake import Lake

OPENED: list[Lake] = []


class TrackedLakeResource(LakeResource):
    """The real lake resource, remembering every handle it hands out."""

    def get_lake(self, read_only: bool = False) -> Lake:
        lk = super().get_lake(read_only=read_only)
        OPENED.append(lk)
        return lk


def _open_handles() -> list[Lake]:
    return [lk for lk in OPENED if lk._con is not None]


@pytest.fixture
def resources(tmp_path: Path) -> dict[str, object]:
    OPENED.clear()
    data = str(tmp_path / "pantau-data")
    return {
        "lake": TrackedLakeResource(data_dir=data),
        "store": ObjectStoreResource(root=str(tmp_path / "store")),
        "settings": SettingsResource(data_dir=data),
    }


@pytest.mark.slow
def test_asset_lake_handles_are_closed(resources: dict[str, object], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANTAU_SALT", "lake-handles-salt")
    steps = [
        [
            reference.lake_schema,
            reference.reference_tables,
            reference.cameras_have_kelurahan,
            reference.cameras_registry_consistent,
            reference.kelurahan_codes_unique,
        ],
        # on empty landing: the table assets find no exports; marts and panic requests run over empty tables
        [*jaki.table_assets, *jaki.mart_assets, jaki.camera_priority_requests, *jaki.table_checks],
        [planning.planning_marts, planning.placement_candidates_valid],
    ]
    run_config = dg.RunConfig({"planning_marts": planning.PlanningConfig(budget=3, method="lazy")})
    for selection in steps:
        before = len(OPENED)
        res = dg.materialize(selection, resources=resources, run_config=run_config if selection is steps[2] else None)
        assert res.success
        assert len(OPENED) > before  # the step did open the lake
        assert _open_handles() == []
