"""Demo scenarios: simulated cameras placed on real camera sites of the Jakarta CCTV inventory.

``demo_scenario(n_cameras=24, seed=0, duration_s=60)`` returns ``SimCameraSpec`` rows whose ``camera_id`` is the
``site_id`` of a real site in ``ingest/reference/data/cctv/jakarta_cctv_map_sites.csv`` (so ids join the
``cameras`` table), with a protocol to serve (``kind``: mjpeg | snapshot | hls) and a ``Script``. Within
``duration_s`` the scenario always contains at least one fire, one flood rising through depth classes 2..4, one
crowd gathering to a dense level, and cameras going frozen, black, covered and moved; the rest are normal
day/night/rain street scenes. Everything is derived from ``seed``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from simulate.scene import Fault, Incident, Script, SimCamera

SITES_CSV = Path(str(resources.files("ingest.reference") / "data" / "cctv" / "jakarta_cctv_map_sites.csv"))


@dataclass(frozen=True)
class SimCameraSpec:
    camera_id: str
    name: str
    lat: float
    lon: float
    kind: str
    seed: int
    script: Script
    role: str  # "fire" | "flood" | "crowd" | "fault:<kind>" | "normal"

    def camera(self, width: int = 640, height: int = 360, fps: float = 10.0) -> SimCamera:
        return SimCamera(self.camera_id, seed=self.seed, width=width, height=height, fps=fps, script=self.script)


def load_sites(path: Path | str | None = None) -> list[dict[str, str]]:
    """Rows of the CCTV site inventory that have coordinates."""
    with open(path or SITES_CSV, newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r.get("lat") and r.get("lng")]
    return rows


def demo_scenario(
    n_cameras: int = 24,
    *,
    seed: int = 0,
    duration_s: float = 60.0,
    hls_cameras: int = 2,
    sites_csv: Path | str | None = None,
) -> list[SimCameraSpec]:
    """``n_cameras`` (>= 7) simulated cameras on distinct real sites with scripted incidents and faults."""
    if n_cameras < 7:
        raise ValueError("a demo scenario needs at least 7 cameras (3 hazards + 4 faults)")
    if duration_s < 20:
        raise ValueError("duration_s must be >= 20 s for the incidents to develop")
    rng = np.random.default_rng(seed)
    sites = load_sites(sites_csv)
    seen: set[str] = set()
    unique = []
    for r in sites:
        if r["site_id"] not in seen:
            seen.add(r["site_id"])
            unique.append(r)
    if len(unique) < n_cameras:
        raise ValueError(f"only {len(unique)} sites available")
    chosen = [unique[i] for i in sorted(rng.choice(len(unique), size=n_cameras, replace=False).tolist())]
    d = float(duration_s)
    roles: list[tuple[str, Script]] = [
        ("fire", Script(incidents=(Incident("fire", start_s=0.15 * d, ramp_s=0.4 * d, x=0.3),))),
        ("flood", Script(rain=True, incidents=(Incident("flood", start_s=0.05 * d, ramp_s=0.7 * d, peak=185.0),))),
        ("crowd", Script(incidents=(Incident("crowd", start_s=0.05 * d, ramp_s=0.6 * d, peak=140.0),))),
        ("fault:frozen", Script(faults=(Fault("frozen", 0.3 * d, 0.7 * d),))),
        ("fault:black", Script(night=True, faults=(Fault("black", 0.4 * d, 0.6 * d),))),
        ("fault:covered", Script(faults=(Fault("covered", 0.5 * d, 0.8 * d),))),
        ("fault:moved", Script(faults=(Fault("moved", 0.5 * d),))),
    ]
    while len(roles) < n_cameras:
        night = bool(rng.random() < 0.3)
        rain = bool(rng.random() < 0.25)
        roles.append(
            (
                "normal",
                Script(
                    night=night, rain=rain, traffic=float(rng.uniform(0.5, 1.4)), pedestrians=int(rng.integers(2, 9))
                ),
            )
        )
    order = rng.permutation(n_cameras).tolist()
    specs = []
    for i, site in enumerate(chosen):
        role, script = roles[order[i]]
        specs.append(
            SimCameraSpec(
                camera_id=site["site_id"],
                name=site["name"],
                lat=float(site["lat"]),
                lon=float(site["lng"]),
                kind="mjpeg",
                seed=seed * 1000 + i,
                script=script,
                role=role,
            )
        )
    # protocols: hazards over MJPEG (consecutive frames), a few HLS, the rest alternate snapshot/mjpeg
    normal = [i for i, s in enumerate(specs) if s.role == "normal"]
    kinds = {i: ("snapshot" if j % 2 else "mjpeg") for j, i in enumerate(normal)}
    for i in normal[: max(0, hls_cameras)]:
        kinds[i] = "hls"
    return [
        SimCameraSpec(s.camera_id, s.name, s.lat, s.lon, kinds.get(i, s.kind), s.seed, s.script, s.role)
        for i, s in enumerate(specs)
    ]
