from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest
from typer.testing import CliRunner

from orchestration.cli import app
from orchestration.definitions import defs
from orchestration.resources import LakeResource, ObjectStoreResource, SettingsResource


def test_definitions_load() -> None:
    loaded = defs()
    graph = loaded.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"lake_schema", "cameras", "kelurahan", "reference_issues"} <= keys
    assert loaded.resolve_job_def("reference_job") is not None


@pytest.mark.slow
def test_reference_assets_materialize(tmp_path: Path) -> None:
    from assets import reference

    lake_resource = LakeResource(data_dir=str(tmp_path))
    resources = {
        "lake": lake_resource,
        "store": ObjectStoreResource(data_dir=str(tmp_path)),
        "settings": SettingsResource(data_dir=str(tmp_path)),
    }
    result = dg.materialize(
        [reference.lake_schema, reference.reference_tables],
        resources=resources,
    )
    assert result.success
    mats = {e.asset_key.to_user_string(): e for e in result.get_asset_materialization_events() if e.asset_key}
    md = mats["cameras"].materialization.metadata
    assert md["rows"].value == 1289
    lake = lake_resource.get_lake(read_only=True)
    assert lake.scalar("SELECT count(*) FROM kelurahan") == 267


@pytest.mark.slow
def test_cli_sql_formats(tmp_path: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(app, ["load-reference", "--data-dir", str(tmp_path)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        app, ["sql", "SELECT count(*) AS n FROM cameras", "--format", "json", "--data-dir", str(tmp_path)]
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == [{"n": 1289}]
    r = runner.invoke(app, ["sql", "SELECT kode_kota FROM kota ORDER BY 1", "-f", "csv", "--data-dir", str(tmp_path)])
    assert r.stdout.splitlines() == ["kode_kota", "31.71", "31.72", "31.73", "31.74", "31.75"]
    r = runner.invoke(app, ["sql", "DELETE FROM cameras", "--data-dir", str(tmp_path)])
    assert r.exit_code == 1 and "error" in r.output.lower()
    r = runner.invoke(app, ["sql", "SELEC nonsense", "--data-dir", str(tmp_path)])
    assert r.exit_code == 1 and "Traceback" not in r.output


def test_cli_help_on_every_command() -> None:
    runner = CliRunner()
    r = runner.invoke(app, ["--help"])
    assert r.exit_code == 0
    import typer.main

    group = typer.main.get_command(app)
    for name in group.commands:  # type: ignore[attr-defined]
        sub = runner.invoke(app, [name, "--help"])
        assert sub.exit_code == 0, (name, sub.output)


def test_operations_doc_states_the_freshness_policies_in_force() -> None:
    from orchestration.definitions import FRESHNESS, freshness_markdown

    doc = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
    start = doc.index("-->\n", doc.index("<!-- freshness table")) + len("-->\n")
    end = doc.index("<!-- end of freshness table -->")
    assert doc[start:end] == freshness_markdown(), (
        "regenerate the table with orchestration.definitions.freshness_markdown()"
    )
    loaded = defs()
    graph = loaded.resolve_asset_graph()
    for f in FRESHNESS:
        node = graph.get(dg.AssetKey.from_user_string(f.asset))
        assert node.freshness_policy == f.policy(), f.asset
