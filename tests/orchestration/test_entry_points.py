"""Every entry point takes its configuration from a TOML file named by PANTAU_CONFIG alone (no PANTAU_* variables).

CLI commands, the Dagster definitions and resources, the Celery worker configuration, logging and the capture worker
each start here with nothing but the file, and each test checks that a setting from the file took effect.
"""

from __future__ import annotations

import importlib.util
import io
import logging
import os
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import cv2
import dagster as dg
import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from orchestration.cli import app
from orchestration.settings import CONFIG_ENV
from warehouse.lake import LakeConfig

REPO = Path(__file__).resolve().parents[2]


def toml_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **values: object) -> Path:
    """Write ``values`` as the ``[pantau]`` table of a config file and name it in PANTAU_CONFIG, nothing else."""
    lines = ["[pantau]"]
    for k, v in values.items():
        lines.append(f"{k} = {v}" if isinstance(v, bool | int) else f'{k} = "{v}"')
    path = tmp_path / "pantau.toml"
    path.write_text("\n".join(lines) + "\n")
    assert not [k for k in os.environ if k.startswith("PANTAU_")]  # the root conftest cleared the caller's
    monkeypatch.setenv(CONFIG_ENV, str(path))
    return path


def test_cli_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "toml-data"
    toml_only(monkeypatch, tmp_path, data_dir=data)
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(app, ["migrate"])
    assert r.exit_code == 0, r.output
    assert LakeConfig(root=data).catalog_path.exists()
    assert not (tmp_path / "pantau-data").exists()  # not the default folder
    r = CliRunner().invoke(app, ["tables"])
    assert r.exit_code == 0 and "schema_migrations" in r.output, r.output


def test_cli_log_level(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    toml_only(monkeypatch, tmp_path, data_dir=tmp_path / "d", log_level="ERROR", log_format="text")
    r = CliRunner().invoke(app, ["subscribe", "list"])
    assert r.exit_code == 0, r.output
    assert logging.getLogger().level == logging.ERROR
    assert (tmp_path / "d" / "ops.sqlite").exists()  # the ops DB in the configured data folder


def test_dagster_definitions_and_resources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from assets.reference import lake_schema
    from orchestration.definitions import build_resources, defs

    data = tmp_path / "toml-data"
    toml_only(
        monkeypatch, tmp_path, data_dir=data, executor="celery", celery_broker="redis://127.0.0.1:6379/9",
        celery_queue="toml-queue",
    )  # fmt: skip
    loaded = defs()
    assert loaded.resolve_job_def("reference_job").executor_def.name == "pantau_celery"
    result = dg.materialize([lake_schema], resources=build_resources())
    assert result.success
    lake = build_resources()["lake"]
    assert isinstance(lake, dg.ConfigurableResource)
    assert Path(lake.lake_config().root) == data  # type: ignore[attr-defined]
    assert LakeConfig(root=data).catalog_path.exists()  # lake_schema migrated the lake in the configured folder


def test_celery_executor_and_worker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestration.celery_app import celery_config
    from orchestration.settings import load_settings

    toml_only(
        monkeypatch, tmp_path, celery_broker="redis://127.0.0.1:6379/7", celery_backend="redis://127.0.0.1:6379/8",
        celery_queue="toml-queue",
    )  # fmt: skip
    cfg = celery_config(load_settings())
    assert cfg["broker"] == "redis://127.0.0.1:6379/7" and cfg["backend"] == "redis://127.0.0.1:6379/8"
    assert cfg["config_source"]["task_default_queue"] == "toml-queue"
    spec = importlib.util.spec_from_file_location(
        "dagster_celery_config", REPO / "deploy" / "celery" / "dagster_celery_config.py"
    )
    assert spec and spec.loader
    worker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(worker)
    assert worker.broker_url == "redis://127.0.0.1:6379/7"
    assert worker.result_backend == "redis://127.0.0.1:6379/8"
    assert worker.task_default_queue == "toml-queue"


def test_logging_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestration.logging_config import JsonFormatter, configure_logging

    toml_only(monkeypatch, tmp_path, log_level="WARNING", log_format="text")
    buf = io.StringIO()
    root = logging.getLogger()
    handler = configure_logging(stream=buf)
    try:
        assert root.level == logging.WARNING
        assert not isinstance(handler.formatter, JsonFormatter)
        logging.getLogger("pantau.test").warning("plain line")
        assert "WARNING pantau.test: plain line" in buf.getvalue()
    finally:
        root.removeHandler(handler)


class _Snapshot(BaseHTTPRequestHandler):
    """A textured scene that changes at every request (neither frozen nor a covered lens)."""

    rng = np.random.default_rng(3)

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        scene = cv2.resize(self.rng.integers(0, 255, (18, 32, 3), dtype=np.uint8), (320, 180))
        self.body = cv2.imencode(".jpg", scene)[1].tobytes()
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)


@pytest.fixture
def snapshot_camera() -> Iterator[str]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Snapshot)
    Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}/cam.jpg"
    finally:
        srv.shutdown()
        srv.server_close()


def test_capture_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, snapshot_camera: str) -> None:
    data = tmp_path / "toml-data"
    toml_only(monkeypatch, tmp_path, data_dir=data, scoring="passthrough")
    cams = tmp_path / "cams.csv"
    cams.write_text(f"camera_id,stream_url,stream_kind\ncam-1,{snapshot_camera},snapshot\n")
    runner = CliRunner()
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    r = runner.invoke(
        app,
        ["capture", "--cameras-file", str(cams), "--duration", "2", "--interval", "0.5", "--flush-every", "1",
         "--no-public-keyframes"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    batches = sorted((data / "store" / "landing" / "frames").rglob("*.parquet"))
    assert batches, "no micro-batch landed in the configured store"
    rows = [row for b in batches for row in pq.read_table(b).to_pylist()]
    ok = [row for row in rows if row["status"] == "ok"]
    assert ok and {row["model_version"] for row in ok} == {"passthrough-1"}  # the configured scoring
    assert all(row["fire"] is None for row in rows)


def test_no_entry_point_reads_pantau_variables_beside_the_settings() -> None:
    """Only orchestration/settings.py reads platform settings (``PANTAU_<field>``, ``PANTAU_CONFIG``) from the
    environment; everything else takes the settings object. Tools' own knobs (e.g. ``PANTAU_SMOKE_*``) are not settings.
    """
    import re

    from orchestration.settings import PantauSettings

    reads = re.compile(r"(?:os\.environ(?:\.get)?|getenv)\W+[\"']PANTAU_([A-Z0-9_]+)")
    names = {n.upper() for n in PantauSettings.model_fields} | {"CONFIG"}
    tops = ("orchestration", "dashboards", "deploy", "assets", "ingest", "access")
    code = [p for top in tops for p in (REPO / top).rglob("*.py") if p.name != "settings.py"]
    offenders = [(p, n) for p in code for n in reads.findall(p.read_text()) if n in names]
    assert offenders == []


@pytest.mark.services
@pytest.mark.slow
def test_dashboards_read_a_toml_configured_postgresql_lake(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_lake_config: LakeConfig
) -> None:
    import pandas as pd
    from streamlit.testing.v1 import AppTest

    from dashboards.i18n import translate
    from warehouse.lake import Lake
    from warehouse.migrations import migrate

    cameras = pd.DataFrame({"camera_id": ["T1", "T2", "T3"], "name": ["a", "b", "c"], "active": [True] * 3})
    with Lake(pg_lake_config) as lk:
        migrate(lk)
        lk.append("cameras", cameras)
    s3 = pg_lake_config.s3
    assert s3 is not None
    toml_only(
        monkeypatch, tmp_path, data_dir=tmp_path / "no-local-lake", lake_catalog="postgres",
        pg_dsn=pg_lake_config.postgres_dsn, s3_endpoint=s3.endpoint, s3_access_key=s3.access_key,
        s3_secret_key=s3.secret_key, s3_bucket=s3.bucket,
    )  # fmt: skip
    at = AppTest.from_file(str(REPO / "dashboards" / "app.py"), default_timeout=120)
    at.switch_page("views/overview.py").run()
    assert not at.exception, at.exception
    assert {m.label: m.value for m in at.metric}[translate("m_cameras")] == "3"
