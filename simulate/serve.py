"""Run the demo simulator: N simulated cameras on real Jakarta sites, served on loopback until stopped.

``start_demo_server(n_cameras, seed, ...) -> (SimServer, specs)`` starts it (the caller stops it);
``camera_rows(server, specs)`` gives rows shaped like the ``cameras`` table (camera_id, name, stream_url,
stream_kind, lat, lon, operator, provider, catalog_source, active) so capture can read the simulated inventory;
``run_simulator(...)`` is the body of a ``pantau simulate`` command: start, print the URLs, block for ``duration_s``
(or until Ctrl-C / SIGTERM), stop cleanly.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from simulate.scenario import SimCameraSpec, demo_scenario
from simulate.servers import SimServer

log = logging.getLogger(__name__)


def start_demo_server(
    n_cameras: int = 24,
    *,
    seed: int = 0,
    duration_s: float = 60.0,
    hls_cameras: int = 2,
    rtsp_cameras: int = 0,
    width: int = 640,
    height: int = 360,
    fps: float = 10.0,
    host: str = "127.0.0.1",
    port: int = 0,
) -> tuple[SimServer, list[SimCameraSpec]]:
    """Start a SimServer for ``demo_scenario(n_cameras, seed, duration_s)``; ``rtsp_cameras`` normal cameras
    are switched to RTSP. The scenario clock starts now."""
    specs = demo_scenario(n_cameras, seed=seed, duration_s=duration_s, hls_cameras=hls_cameras)
    if rtsp_cameras:
        normal = [i for i, s in enumerate(specs) if s.role == "normal" and s.kind != "hls"][:rtsp_cameras]
        specs = [
            SimCameraSpec(s.camera_id, s.name, s.lat, s.lon, "rtsp", s.seed, s.script, s.role) if i in normal else s
            for i, s in enumerate(specs)
        ]
    cams = [s.camera(width, height, fps) for s in specs]
    srv = SimServer(
        cams,
        host=host,
        port=port,
        hls=[s.camera_id for s in specs if s.kind == "hls"],
        rtsp=[s.camera_id for s in specs if s.kind == "rtsp"],
    )
    srv.start()
    try:
        srv.wait_ready()
    except RuntimeError:
        srv.stop()
        raise
    return srv, specs


def camera_rows(server: SimServer, specs: list[SimCameraSpec]) -> list[dict[str, Any]]:
    """``cameras``-shaped rows for the simulated inventory (stream URLs point at ``server``)."""
    return [
        {
            "camera_id": s.camera_id,
            "name": s.name,
            "operator": "Pantau simulator",
            "provider": "simulated",
            "stream_url": server.url(s.camera_id, s.kind),
            "stream_kind": s.kind,
            "truth_url": server.url(s.camera_id, "truth"),
            "lat": s.lat,
            "lon": s.lon,
            "catalog_source": "simulator",
            "active": True,
            "role": s.role,
        }
        for s in specs
    ]


def run_simulator(
    n_cameras: int = 24,
    *,
    seed: int = 0,
    duration_s: float = 60.0,
    port: int = 8554,
    hls_cameras: int = 2,
    rtsp_cameras: int = 0,
    width: int = 640,
    height: int = 360,
    fps: float = 10.0,
    serve_s: float | None = None,
) -> list[dict[str, Any]]:
    """Serve the demo until ``serve_s`` elapses (None: until Ctrl-C/SIGTERM); prints a table; returns the rows."""
    from rich.console import Console
    from rich.table import Table

    srv, specs = start_demo_server(
        n_cameras,
        seed=seed,
        duration_s=duration_s,
        hls_cameras=hls_cameras,
        rtsp_cameras=rtsp_cameras,
        width=width,
        height=height,
        fps=fps,
        port=port,
    )
    rows = camera_rows(srv, specs)
    table = Table(title=f"Pantau simulator on {srv.base_url} ({len(rows)} cameras, seed {seed})")
    for col in ("camera_id", "name", "role", "stream_kind", "stream_url"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["camera_id"], r["name"], r["role"], r["stream_kind"], r["stream_url"])
    console = Console()
    console.print(table)
    console.print(f"faults: POST {srv.base_url}/cam/<id>/fault {{'kind': ...}}; truth: GET .../cam/<id>/truth?t=")
    done = threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait(serve_s)
    except KeyboardInterrupt:
        pass
    finally:
        srv.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return rows
