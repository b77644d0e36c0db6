"""The production smoke run (``make prod-smoke``): its commands are the compose services' own, and (nightly marker)
the whole topology runs end to end and passes every outside check."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "deploy" / "prod_smoke.py"


def _smoke() -> ModuleType:
    spec = importlib.util.spec_from_file_location("prod_smoke", SCRIPT)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize(
    ("service", "opts", "expected"),
    [
        ("dagster-code", {"h": "127.0.0.1", "p": "1"}, ["dagster", "api", "grpc", "-h", "127.0.0.1", "-p", "1"]),
        ("dagster-webserver", {"h": "127.0.0.1", "p": "2", "w": "ws.yaml"}, ["dagster-webserver", "-h", "127.0.0.1"]),
        ("dagster-daemon", {"w": "ws.yaml"}, ["dagster-daemon", "run", "-w", "ws.yaml"]),
        (
            "celery-worker",
            {"Q": "q1", "concurrency": "1", "n": "a@%h"},
            ["celery", "-A", "dagster_celery.app", "worker"],
        ),
        ("capture", {"metrics_port": "3", "interval": "2", "flush_every": "5"}, ["pantau", "capture", "--lease"]),
        ("api", {"host": "127.0.0.1", "port": "4"}, ["pantau", "serve-api", "--host", "127.0.0.1", "--port", "4"]),
        ("migrate", {}, ["pantau", "migrate"]),
    ],
)
def test_smoke_runs_the_compose_services_commands(service: str, opts: dict[str, str], expected: list[str]) -> None:
    smoke = _smoke()
    compose = smoke.compose_commands()
    cmd = smoke.with_options(compose[service], **opts)
    assert cmd[: len(expected)] == expected
    assert len(cmd) == len(compose[service])  # only option values change, nothing is added or dropped
    for value in opts.values():
        assert value in cmd


def test_with_options_refuses_an_option_the_service_does_not_have() -> None:
    smoke = _smoke()
    with pytest.raises(KeyError):
        smoke.with_options(["pantau", "migrate"], port="1")


@pytest.mark.nightly
@pytest.mark.services
@pytest.mark.slow
def test_prod_smoke_passes(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--work", str(tmp_path / "smoke")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert out.returncode == 0, out.stdout[-6000:] + out.stderr[-3000:]
    assert "CHECK FAIL" not in out.stdout and out.stdout.count("CHECK PASS") >= 10
