"""`pantau cameras ...` end to end as a user runs it, with a planted stream password: the password reaches the
camera (it answers 401 without it) and appears in no command output, log line, lake table, landing batch,
keyframe, release file or any other file the platform writes (only in the secrets file)."""

from __future__ import annotations

import base64
import csv
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pyarrow.parquet as pq
import pytest
import requests

from simulate.scene import SimCamera
from simulate.servers import SimServer
from warehouse.lake import Lake, LakeConfig, ident

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Pl4nted-Pw-d41d8c"
ENV_PASSWORD = "Env-Pl4nted-77aa"


class _AuthCamera(BaseHTTPRequestHandler):
    """A snapshot camera that wants HTTP Basic credentials (and proxies the simulator's image)."""

    upstream: ClassVar[str] = ""
    expected: ClassVar[frozenset[str]] = frozenset()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        auth = self.headers.get("Authorization", "")
        user_pw = base64.b64decode(auth[6:]).decode() if auth.startswith("Basic ") else ""
        if user_pw not in self.expected:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="cam"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = requests.get(self.upstream, timeout=5).content
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def auth_camera() -> Iterator[str]:
    with SimServer([SimCamera("sim-0", seed=3, width=160, height=90)]) as sim:
        handler = type("Cam", (_AuthCamera,), {"upstream": sim.url("sim-0", "snapshot"),
                                               "expected": frozenset({f"op:{PASSWORD}", f"env-op:{ENV_PASSWORD}"})})  # fmt: skip
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        try:
            yield f"127.0.0.1:{httpd.server_port}"
        finally:
            httpd.shutdown()


def test_planted_password_reaches_the_camera_and_no_output(auth_camera: str, tmp_path: Path) -> None:
    data = tmp_path / "pantau-data"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PANTAU_DATA_DIR": str(data), "PANTAU_LOG_LEVEL": "DEBUG",
           "PANTAU_LOG_FORMAT": "text", "CAM_ENV_SECRET": f"env-op:{ENV_PASSWORD}", "COLUMNS": "200"}  # fmt: skip
    outputs: list[str] = []

    def pantau(*args: str, ok: bool = True) -> str:
        r = subprocess.run([sys.executable, "-m", "orchestration.cli", *args], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=300)  # fmt: skip
        outputs.append(r.stdout + r.stderr)
        if ok:
            assert r.returncode == 0, (args, r.stdout[-2000:], r.stderr[-3000:])
        return r.stdout

    pantau("load-reference")
    src = tmp_path / "new.csv"
    with src.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["camera_id", "name", "lat", "lon", "stream_url", "stream_kind", "secret_ref"])
        w.writerow(["cam-pw", "Pintu Air", "-6.2078", "106.8483", f"http://op:{PASSWORD}@{auth_camera}/snap.jpg",
                    "snapshot", ""])  # fmt: skip
        w.writerow(["cam-env", "Monas", "-6.1754", "106.8272", f"http://{auth_camera}/snap.jpg", "snapshot",
                    "env:CAM_ENV_SECRET"])  # fmt: skip
        w.writerow(["cam-bad", "Bad", "-6.2", "106.8", f"ftp://op:{PASSWORD}@{auth_camera}/x", "", ""])
        w.writerow(["cam-nopw", "Tanpa sandi", "-6.19", "106.83", f"http://{auth_camera}/snap.jpg", "snapshot", ""])
    out = pantau("cameras", "import", str(src), "--by", "operator-1")
    assert "4 rows: 3 added" in out and "1 rejected" in out and "cam-bad" in out

    listed = json.loads(pantau("cameras", "list", "--search", "cam-", "--format", "json"))
    refs = {r["camera_id"]: r["secret_ref"] for r in listed}
    assert refs == {"cam-pw": "file:camera/cam-pw", "cam-env": "env:CAM_ENV_SECRET", "cam-nopw": None}
    pantau("cameras", "list", "--format", "csv", "--limit", "0")
    pantau("cameras", "history", "cam-pw")
    probe = json.loads(pantau("cameras", "probe", "cam-pw", "--json", "--test-frame", str(tmp_path / "t.jpg")))
    assert probe["ok"] and probe["protocol"] == "snapshot" and (tmp_path / "t.jpg").exists()
    assert json.loads(pantau("cameras", "probe", "cam-env", "--json"))["ok"]
    failed = json.loads(pantau("cameras", "probe", "cam-nopw", "--json", ok=False))
    assert failed["error"] == "http_error: HTTP 401"  # without credentials the camera refuses
    pantau("cameras", "edit", "cam-pw", "--name", "Pintu Air Manggarai", "--by", "operator-2")
    audit = json.loads(pantau("audit", "--format", "json"))  # every registry change is in the audit log too
    cams = [(r["action"], r["target_id"], r["actor"]) for r in audit if r["target_type"] == "camera"]
    assert cams[0] == ("camera.edit", "cam-pw", "operator-2")
    assert json.loads(next(r for r in audit if r["action"] == "camera.edit")["after"]) == {
        "name": "Pintu Air Manggarai"
    }
    imported = [c[1] for c in cams[1:] if c[0] != "camera.seed"]
    assert sorted(imported) == ["cam-env", "cam-nopw", "cam-pw"]  # the import: one row each
    assert any(c[0] == "camera.seed" for c in cams)  # `pantau load-reference` seeding is audited as well
    assert "audit log intact" in pantau("audit", "--verify")
    pantau("-v", "capture", "--camera-id", "cam-pw", "--camera-id", "cam-env", "--camera-id", "cam-nopw",
           "--duration", "4", "--interval", "1", "--flush-every", "2")  # fmt: skip
    pantau("ingest-cameras")
    pantau("sql", "SELECT * FROM cameras WHERE camera_id LIKE 'cam-%'", "--format", "csv")
    pantau("publish", "--force")

    secrets = data / "secrets" / "cameras.json"
    assert PASSWORD in secrets.read_text()  # the one place it lives
    with Lake(LakeConfig(root=data), read_only=True) as lake:
        statuses = {
            (r["camera_id"], r["status"])
            for r in lake.query(
                "SELECT DISTINCT camera_id, status FROM frames WHERE camera_id LIKE 'cam-%'"
            ).to_pylist()
        }
        assert ("cam-pw", "ok") in statuses and ("cam-env", "ok") in statuses  # credentials reached the camera
        assert ("cam-nopw", "ok") not in statuses
        dumps = [repr(lake.query(f"SELECT * FROM {ident(t)}").to_pylist()) for t in lake.tables()]
    for p in data.rglob("*"):
        if not p.is_file() or p == secrets:
            continue
        raw = p.read_bytes()
        if p.suffix == ".parquet":
            raw += repr(pq.read_table(p).to_pylist()).encode()
        assert PASSWORD.encode() not in raw and ENV_PASSWORD.encode() not in raw, p
    for text in outputs + dumps:
        assert PASSWORD not in text and ENV_PASSWORD not in text
    assert any("cam-pw" in o for o in outputs)  # the outputs searched are the real ones
