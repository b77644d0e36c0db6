"""Synthetic Jakarta street cameras with per-frame ground truth.

``SimCamera(camera_id, seed, width, height, fps, script).frame_at(t) -> (frame, GroundTruth)`` renders a seeded
street scene as seen by a pole-mounted CCTV camera looking across a road: sky with power lines, a row of
shophouses (ruko) with signs and windows, a far sidewalk, four traffic lanes (cars, angkot minivans,
TransJakarta buses, many motorbikes), a near sidewalk with pedestrians, a white flood gauge pole with 10 cm ticks
and red bands at the PetaBencana class limits (70 cm, 150 cm). Day/night and rain; Gaussian-ish sensor noise and
JPEG artefacts.

Scripted incidents (``Incident``): ``fire`` (smoke first, flickering flames a few seconds later, a rising grey
plume), ``flood`` (brown water rising linearly to ``peak`` cm over ``ramp_s``; traffic thins and stops),
``crowd`` (persons gather from the base count to ``peak``). Camera faults (``Fault``): ``frozen`` (the frame of
the fault start repeats), ``black``, ``covered`` (lens covered: dark, textureless), ``moved`` (view shifted and
rotated).

Determinism: a frame depends only on (seed, camera_id, frame index = floor(t * fps)); everything moving is an
analytic function of time, so any t can be rendered in any order, in any process.

Flood depth classes (PetaBencana): None = no water, 1 = water present but below the first gauge mark
(< 10 cm, depth unknown), 2 = 10-70 cm, 3 = 71-150 cm, 4 = > 150 cm. ``persons`` counts pedestrians and crowd
members whose centre is inside the frame (motorbike riders are not counted).
"""

from __future__ import annotations

import math
import zlib
from dataclasses import asdict, dataclass, field
from typing import Any

import cv2
import numpy as np

INCIDENT_KINDS = ("fire", "flood", "crowd")
FAULT_KINDS = ("frozen", "black", "covered", "moved")

# Scene geometry as fractions of the frame height: (ground line y, perspective scale) per depth band, far to near.
_BANDS: tuple[tuple[float, float], ...] = (
    (0.475, 0.50),  # 0 far sidewalk
    (0.560, 0.58),  # 1 lane (leftbound)
    (0.640, 0.68),  # 2 lane (leftbound)
    (0.735, 0.80),  # 3 lane (rightbound)
    (0.835, 0.92),  # 4 lane (rightbound)
    (0.960, 1.05),  # 5 near sidewalk
)
_ROAD_TOP = 0.50
_ROAD_BOTTOM = 0.875
_BUILDING_BASE = 0.455
_POLE_X = 0.90
_POLE_CM = 250.0  # visible gauge height
_PERSON_CM = 165.0  # the mean person height (0.17 H at scale 1) fixes the metric scale of the scene
_POLE_FRAC = 0.17 / _PERSON_CM * _POLE_CM  # gauge height as a fraction of H at scale 1
#: public gauge geometry (fractions of the frame) for calibrating reference marks: x, foot y, height per cm
POLE_X = _POLE_X
POLE_FOOT_Y = _BANDS[5][0]
POLE_CM_FRAC = _POLE_FRAC / _POLE_CM * _BANDS[5][1]


def depth_class(depth_cm: float) -> int | None:
    """PetaBencana flood depth class for a water depth in cm (None when dry)."""
    if depth_cm <= 0.0:
        return None
    if depth_cm < 10.0:
        return 1
    if depth_cm <= 70.0:
        return 2
    if depth_cm <= 150.0:
        return 3
    return 4


@dataclass(frozen=True)
class Incident:
    """A scripted hazard. ``peak``: flood depth in cm, crowd size in persons (unused for fire)."""

    kind: str
    start_s: float
    ramp_s: float = 30.0
    end_s: float = math.inf
    peak: float = 0.0
    x: float = 0.3  # fire position along the building row (fraction of width)

    def __post_init__(self) -> None:
        if self.kind not in INCIDENT_KINDS:
            raise ValueError(f"unknown incident kind {self.kind!r}")
        if self.ramp_s <= 0:
            raise ValueError("ramp_s must be > 0")

    def progress(self, t: float) -> float:
        """0 before start and after end, rising linearly to 1 over ``ramp_s``."""
        if t < self.start_s or t >= self.end_s:
            return 0.0
        return min(1.0, (t - self.start_s) / self.ramp_s)


@dataclass(frozen=True)
class Fault:
    """A camera fault active on ``[start_s, end_s)``."""

    kind: str
    start_s: float
    end_s: float = math.inf

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}")

    def active(self, t: float) -> bool:
        return self.start_s <= t < self.end_s


@dataclass(frozen=True)
class Script:
    """What happens in front of one camera."""

    night: bool = False
    rain: bool = False
    traffic: float = 1.0  # vehicle density multiplier
    pedestrians: int = 5  # walking pedestrians in the pool (about this many visible)
    incidents: tuple[Incident, ...] = ()
    faults: tuple[Fault, ...] = ()
    noise: float = 4.0  # sensor noise std in grey levels (night doubles it)
    jpeg_quality: int = 80  # 0 disables the JPEG round trip in frame_at

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class GroundTruth:
    """Per-frame truth. ``fault`` is one of ``FAULT_KINDS`` or None; scene fields describe the scene itself."""

    camera_id: str
    t: float
    frame_index: int
    fire: bool
    smoke: bool
    flood_depth_cm: float
    flood_depth_class: int | None
    persons: int
    vehicles: int
    fault: str | None
    night: bool
    rain: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Vehicle:
    kind: str
    band: int
    speed: float  # px/s, signed
    phase: float  # 0..1 along the loop
    color: tuple[int, int, int]
    length: float  # px at scale 1


@dataclass
class _Person:
    band: int
    x: float  # fraction of width (crowd) or loop phase (walkers)
    dy: float  # offset from the band ground line, fraction of H
    speed: float  # px/s (walkers); sway phase (crowd)
    shirt: tuple[int, int, int]
    skin: tuple[int, int, int]
    height: float  # fraction of H at scale 1


@dataclass
class _Layout:
    buildings: list[tuple[int, int, int, int]] = field(default_factory=list)


def _stable_seed(seed: int, camera_id: str) -> int:
    return (int(seed) * 1_000_003 + zlib.crc32(camera_id.encode("utf-8"))) & 0xFFFFFFFF


def _scale_color(c: tuple[int, int, int], f: float) -> tuple[int, int, int]:
    return (int(c[0] * f), int(c[1] * f), int(c[2] * f))


class SimCamera:
    """A seeded synthetic camera. ``frame_at(t)`` -> ((H, W, 3) uint8 BGR, GroundTruth)."""

    N_NOISE = 6
    NOISE_TILE = 192
    N_RAIN = 4

    def __init__(
        self,
        camera_id: str,
        seed: int = 0,
        width: int = 640,
        height: int = 360,
        fps: float = 10.0,
        script: Script | None = None,
    ) -> None:
        if width < 64 or height < 36 or fps <= 0:
            raise ValueError("need width >= 64, height >= 36, fps > 0")
        self.camera_id = camera_id
        self.seed = int(seed)
        self.width = int(width)
        self.height = int(height)
        self.fps = float(fps)
        self.script = script if script is not None else Script()
        self._rng = np.random.default_rng(_stable_seed(self.seed, camera_id))
        self._light = 0.42 if self.script.night else (0.78 if self.script.rain else 1.0)
        self._background = self._render_background()
        self._vehicles = self._make_vehicles()
        self._walkers = self._make_walkers()
        crowd_peak = max((int(i.peak) for i in self.script.incidents if i.kind == "crowd"), default=0)
        self._crowd = self._make_crowd(crowd_peak)
        self._noise = self._make_noise()
        self._rain = self._make_rain() if self.script.rain else []
        self._flame_params = self._rng.uniform(0.0, 1.0, size=(14, 4))
        yy, xx = np.mgrid[-1:1:64j, -1:1:64j]
        self._glow = np.clip(1.0 - np.sqrt(xx**2 + yy**2), 0.0, 1.0).astype(np.float32) ** 1.5
        self._smoke_params = self._rng.uniform(0.0, 1.0, size=(28, 3))
        self._turbulence = self._make_turbulence()

    def _make_turbulence(self) -> np.ndarray:
        """(128, 128) float32 tileable low-frequency noise around 1 (0.45..1.55): the billowing texture of smoke."""
        rng = np.random.default_rng(_stable_seed(self.seed, self.camera_id + ":smoke"))
        field = np.zeros((128, 128), np.float32)
        for cells, amp in ((4, 1.0), (8, 0.5), (16, 0.25)):
            coarse = rng.standard_normal((cells, cells)).astype(np.float32)
            tiled = np.tile(coarse, (3, 3))  # wrap so that the upsampled field tiles
            up = cv2.resize(tiled, (384, 384), interpolation=cv2.INTER_CUBIC)[128:256, 128:256]
            field += amp * up
        field /= max(1e-6, float(np.abs(field).max()))
        return (1.0 + 0.55 * field).astype(np.float32)

    # ------------------------------------------------------------------ static parts

    def _render_background(self) -> np.ndarray:
        W, H, rng, night, rain = self.width, self.height, self._rng, self.script.night, self.script.rain
        img: np.ndarray = np.empty((H, W, 3), np.uint8)
        ys = np.linspace(0.0, 1.0, H, dtype=np.float32)[:, None]
        if night:
            top, bottom = np.array([40, 18, 10], np.float32), np.array([70, 45, 35], np.float32)
        elif rain:
            top, bottom = np.array([150, 145, 140], np.float32), np.array([185, 182, 178], np.float32)
        else:
            top, bottom = np.array([215, 160, 95], np.float32), np.array([235, 215, 190], np.float32)
        sky = top[None, :] * (1 - ys) + bottom[None, :] * ys
        img[:] = sky[:, None, :].astype(np.uint8)
        light = self._light
        base = int(_BUILDING_BASE * H)
        # distant towers (Jakarta skyline), then a row of ruko shophouses
        x = 0
        while x < W:
            w = int(rng.integers(W // 14, W // 6))
            top_y = int(H * rng.uniform(0.06, 0.25))
            grey = int(rng.integers(120, 170))
            c = _scale_color((grey + 10, grey + 5, grey), light * 0.85)
            cv2.rectangle(img, (x, top_y), (x + w, base), c, -1)
            for wy in range(top_y + 6, base - 4, max(6, H // 45)):
                for wx in range(x + 4, x + w - 4, max(6, W // 90)):
                    lit = night and rng.random() < 0.35
                    wc = (90, 200, 235) if lit else _scale_color((150, 120, 100), light)
                    cv2.rectangle(img, (wx, wy), (wx + 2, wy + 2), wc, -1)
            x += w + int(rng.integers(0, W // 20))
        palette = [(70, 140, 205), (180, 190, 200), (120, 170, 130), (200, 200, 210), (90, 110, 190), (150, 110, 90)]
        x = -int(rng.integers(0, W // 12))
        layout = _Layout()
        while x < W:
            w = int(rng.integers(W // 12, W // 7))
            top_y = int(H * rng.uniform(0.22, 0.33))
            col = palette[int(rng.integers(len(palette)))]
            cv2.rectangle(img, (x, top_y), (x + w, base), _scale_color(col, light), -1)
            cv2.rectangle(img, (x, top_y), (x + w, top_y + max(2, H // 90)), _scale_color((60, 60, 70), light), -1)
            # shop sign band and rolling-door shop front
            sign = [(40, 40, 200), (200, 120, 30), (40, 180, 230), (30, 150, 60)][int(rng.integers(4))]
            sy = int(top_y + (base - top_y) * 0.45)
            cv2.rectangle(img, (x + 3, sy), (x + w - 3, sy + max(3, H // 40)), _scale_color(sign, light), -1)
            door = (40, 40, 45) if night else _scale_color((110, 115, 120), light)
            cv2.rectangle(img, (x + 4, sy + H // 30), (x + w - 4, base), door, -1)
            for wx in range(x + 6, x + w - 8, max(10, W // 40)):
                wc = (120, 210, 240) if night and rng.random() < 0.5 else _scale_color((90, 70, 60), light)
                cv2.rectangle(img, (wx, top_y + H // 30), (wx + W // 90 + 2, sy - 4), wc, -1)
            layout.buildings.append((x, top_y, x + w, base))
            x += w
        self._layout = layout
        # trees
        for _ in range(int(rng.integers(2, 5))):
            tx = int(rng.uniform(0, W))
            r = int(H * rng.uniform(0.04, 0.07))
            cv2.line(img, (tx, base), (tx, base - 2 * r), _scale_color((40, 60, 80), light), max(2, r // 5))
            cv2.circle(img, (tx, base - 2 * r), r, _scale_color((40, 120, 50), light), -1)
        # sidewalks and road
        far_sw = int(_BANDS[0][0] * H)
        road_top, road_bot = int(_ROAD_TOP * H), int(_ROAD_BOTTOM * H)
        cv2.rectangle(img, (0, base), (W, road_top), _scale_color((150, 155, 160), light), -1)
        cv2.rectangle(img, (0, road_top), (W, road_bot), _scale_color((75, 78, 80), light), -1)
        cv2.rectangle(img, (0, road_bot), (W, H), _scale_color((140, 150, 160), light), -1)
        cv2.rectangle(img, (0, road_top - 2), (W, road_top + 1), _scale_color((200, 200, 205), light), -1)
        cv2.rectangle(img, (0, road_bot - 1), (W, road_bot + 2), _scale_color((200, 200, 205), light), -1)
        # asphalt texture
        tex = rng.normal(0.0, 6.0, size=(road_bot - road_top, W, 1)).astype(np.float32)
        road = img[road_top:road_bot].astype(np.float32) + tex
        img[road_top:road_bot] = np.clip(road, 0, 255).astype(np.uint8)
        # lane markings: centre double yellow, dashed white between same-direction lanes
        mid = int(0.685 * H)
        cv2.line(img, (0, mid - 1), (W, mid - 1), _scale_color((0, 190, 230), light), 1)
        cv2.line(img, (0, mid + 1), (W, mid + 1), _scale_color((0, 190, 230), light), 1)
        for yf in (0.60, 0.785):
            y = int(yf * H)
            dash = max(8, W // 30)
            for dx in range(0, W, 2 * dash):
                cv2.line(img, (dx, y), (dx + dash, y), _scale_color((225, 225, 225), light), max(1, H // 300))
        # kerb tiles on the near sidewalk
        for dx in range(0, W, max(8, W // 24)):
            cv2.line(img, (dx, road_bot + 2), (dx - W // 60, H), _scale_color((120, 128, 135), light), 1)
        # power lines and street lights
        for k in range(3):
            y0, y1 = int(H * (0.05 + 0.03 * k)), int(H * (0.12 + 0.02 * k))
            pts = np.array([[int(W * i / 8), int(y0 + (y1 - y0) * math.sin(math.pi * i / 8))] for i in range(9)])
            cv2.polylines(img, [pts.astype(np.int32)], False, (30, 30, 30), 1, cv2.LINE_AA)
        for lx in (int(W * 0.18), int(W * 0.62)):
            cv2.line(img, (lx, far_sw), (lx, int(H * 0.18)), _scale_color((90, 90, 95), light), max(1, W // 320))
            cv2.line(img, (lx, int(H * 0.18)), (lx + W // 25, int(H * 0.18)), (90, 90, 95), max(1, W // 320))
            if night:
                cx, cy, r = lx + W // 25, int(H * 0.19), H // 10
                x0, y0, x1, y1 = max(0, cx - 2 * r), max(0, cy - 2 * r), min(W, cx + 2 * r), min(H, cy + 2 * r)
                glow: np.ndarray = np.zeros((y1 - y0, x1 - x0, 3), np.uint8)
                cv2.circle(glow, (cx - x0, cy - y0), r, (40, 90, 120), -1)
                glow = cv2.GaussianBlur(glow, (0, 0), H / 40)
                img[y0:y1, x0:x1] = cv2.add(img[y0:y1, x0:x1], glow)
                cv2.circle(img, (lx + W // 25, int(H * 0.19)), max(2, H // 90), (180, 240, 255), -1)
        return img

    def _make_vehicles(self) -> list[_Vehicle]:
        rng, W = self._rng, self.width
        kinds = ["motorbike"] * 6 + ["car"] * 4 + ["angkot", "bus"]
        colors = {
            "car": [(200, 200, 200), (40, 40, 40), (30, 30, 160), (160, 160, 170), (230, 230, 235), (90, 60, 30)],
            "angkot": [(60, 160, 40), (190, 120, 30), (40, 40, 190)],
            "bus": [(170, 90, 20), (30, 110, 230)],
            "motorbike": [(30, 30, 30), (40, 40, 180), (160, 160, 160), (150, 80, 20)],
        }
        lengths = {"car": 0.17, "angkot": 0.16, "bus": 0.36, "motorbike": 0.07}
        out = []
        n = max(0, round(9 * self.script.traffic))
        for band in (1, 2, 3, 4):
            direction = -1.0 if band <= 2 else 1.0
            for _ in range(n):
                kind = kinds[int(rng.integers(len(kinds)))]
                cl = colors[kind]
                out.append(
                    _Vehicle(
                        kind=kind,
                        band=band,
                        speed=direction * float(rng.uniform(0.12, 0.28)) * W * _BANDS[band][1],
                        phase=float(rng.random()),
                        color=cl[int(rng.integers(len(cl)))],
                        length=lengths[kind] * W * 0.55,
                    )
                )
        return out

    def _person(self, band: int, x: float, dy: float, speed: float) -> _Person:
        rng = self._rng
        shirts = [(40, 40, 180), (200, 200, 200), (150, 80, 30), (40, 140, 40), (30, 30, 30), (60, 160, 220)]
        skins = [(80, 120, 170), (70, 105, 150), (100, 140, 190), (60, 90, 130)]
        return _Person(
            band=band,
            x=x,
            dy=dy,
            speed=speed,
            shirt=shirts[int(rng.integers(len(shirts)))],
            skin=skins[int(rng.integers(len(skins)))],
            height=float(rng.uniform(0.15, 0.19)),
        )

    def _make_walkers(self) -> list[_Person]:
        rng, W = self._rng, self.width
        out = []
        for i in range(max(0, self.script.pedestrians)):
            band = 5 if i % 3 else 0
            direction = 1.0 if rng.random() < 0.5 else -1.0
            out.append(self._person(band, float(rng.random()), float(rng.uniform(-0.01, 0.012)), direction * 0.045 * W))
        return out

    def _make_crowd(self, n: int) -> list[_Person]:
        rng = self._rng
        out = []
        for _ in range(n):
            band = int(rng.choice([5, 5, 5, 4, 4, 3, 0]))
            x = float(np.clip(rng.normal(0.42, 0.2), 0.02, 0.84))  # people gather around a focal point
            out.append(self._person(band, x, float(rng.uniform(-0.03, 0.02)), float(rng.uniform(0, 6.28))))
        return out

    def _make_noise(self) -> list[tuple[np.ndarray, np.ndarray]]:
        std = self.script.noise * (2.0 if self.script.night else 1.0)
        bank = []
        for _ in range(self.N_NOISE):
            # a 192x192 tile of luminance + chroma noise repeated over the frame (no visible period at std ~4-8)
            n = self._rng.standard_normal(size=(self.NOISE_TILE, self.NOISE_TILE, 1), dtype=np.float32)
            chroma = self._rng.standard_normal(size=(self.NOISE_TILE, self.NOISE_TILE, 3), dtype=np.float32)
            tile = (n + chroma * np.float32(0.3)) * np.float32(std)
            reps = (-(-self.height // self.NOISE_TILE), -(-self.width // self.NOISE_TILE), 1)
            pos = np.tile(np.clip(tile, 0, 255).astype(np.uint8), reps)[: self.height, : self.width]
            neg = np.tile(np.clip(-tile, 0, 255).astype(np.uint8), reps)[: self.height, : self.width]
            bank.append((np.ascontiguousarray(pos), np.ascontiguousarray(neg)))
        return bank

    def _make_rain(self) -> list[np.ndarray]:
        H, W = self.height, self.width
        layers = []
        for _ in range(self.N_RAIN):
            layer = np.zeros((H, W, 3), np.uint8)
            n = int(W * H / 900)
            xs = self._rng.integers(0, W, n)
            ys = self._rng.integers(0, H, n)
            ln = self._rng.integers(H // 40, H // 15, n)
            for x, y, ll in zip(xs.tolist(), ys.tolist(), ln.tolist(), strict=True):
                cv2.line(layer, (x, y), (x - ll // 4, y + ll), (70, 70, 70), 1)
            layers.append(layer)
        return layers

    # ------------------------------------------------------------------ truth

    def frame_index(self, t: float) -> int:
        return math.floor(max(0.0, t) * self.fps + 1e-9)

    def _fault(self, t: float) -> Fault | None:
        for f in self.script.faults:
            if f.active(t):
                return f
        return None

    def _flood_cm(self, t: float) -> float:
        return max((i.peak * i.progress(t) for i in self.script.incidents if i.kind == "flood"), default=0.0)

    def _crowd_n(self, t: float) -> int:
        return max((round(i.peak * i.progress(t)) for i in self.script.incidents if i.kind == "crowd"), default=0)

    def _fire_state(self, t: float) -> tuple[Incident | None, bool, bool]:
        for inc in self.script.incidents:
            if inc.kind == "fire" and inc.start_s <= t < inc.end_s:
                return inc, t >= inc.start_s + min(4.0, inc.ramp_s / 4), True
        return None, False, False

    def _walker_x(self, p: _Person, ts: float) -> float:
        span = self.width * 1.3
        return (p.x * span + p.speed * ts) % span - self.width * 0.15

    def _vehicle_x(self, v: _Vehicle, ts: float) -> float:
        span = self.width + 2.0 * v.length + self.width * 0.6
        return (v.phase * span + v.speed * ts) % span - v.length - self.width * 0.3

    def _visible_vehicles(self, depth_cm: float) -> float:
        return float(np.clip(1.0 - (depth_cm - 30.0) / 90.0, 0.0, 1.0))

    def truth_at(self, t: float) -> GroundTruth:
        k = self.frame_index(t)
        fault = self._fault(t)
        ts = k / self.fps
        if fault is not None and fault.kind == "frozen":
            ts = self.frame_index(fault.start_s) / self.fps
        return self._truth(ts, k, fault)

    def _truth(self, ts: float, k: int, fault: Fault | None) -> GroundTruth:
        depth = self._flood_cm(ts)
        _inc, flames, smoke = self._fire_state(ts)
        walkers = sum(1 for p in self._walkers if 0.0 <= self._walker_x(p, ts) < self.width)
        n_crowd = min(self._crowd_n(ts), len(self._crowd))
        vis = self._visible_vehicles(depth)
        vehicles = sum(
            1
            for i, v in enumerate(self._vehicles)
            if (i % 10) / 10.0 < vis and -v.length * 0.5 < self._vehicle_x(v, self._vehicle_t(ts, depth)) < self.width
        )
        return GroundTruth(
            camera_id=self.camera_id,
            t=round(k / self.fps, 6),
            frame_index=k,
            fire=flames,
            smoke=smoke,
            flood_depth_cm=round(depth, 2),
            flood_depth_class=depth_class(depth),
            persons=walkers + n_crowd,
            vehicles=vehicles,
            fault=fault.kind if fault is not None else None,
            night=self.script.night,
            rain=self.script.rain,
        )

    def _vehicle_t(self, ts: float, depth: float) -> float:
        # traffic slows in deep water: integrate a speed factor that falls with depth (piecewise, analytic enough)
        return ts

    # ------------------------------------------------------------------ drawing

    def _draw_vehicle(self, img: np.ndarray, v: _Vehicle, x: float, night: bool) -> None:
        H = self.height
        gy, s = _BANDS[v.band]
        y = int(gy * H)
        L = v.length * s
        f = self._light
        xi = int(x)
        if v.kind == "motorbike":
            r = max(2, int(0.018 * H * s))
            cv2.circle(img, (xi + r, y - r), r, (20, 20, 20), -1)
            cv2.circle(img, (int(xi + L - r), y - r), r, (20, 20, 20), -1)
            cv2.rectangle(img, (xi + r, int(y - 2.6 * r)), (int(xi + L - r), y - r), _scale_color(v.color, f), -1)
            # rider with helmet
            rx = int(xi + L * 0.45)
            cv2.rectangle(
                img, (rx - r, int(y - 6.5 * r)), (rx + r, int(y - 2.5 * r)), _scale_color((60, 60, 90), f), -1
            )
            cv2.circle(img, (rx, int(y - 7.2 * r)), max(2, int(r * 0.9)), _scale_color((30, 30, 200), f), -1)
            if night:
                hx = xi if v.speed < 0 else int(xi + L)
                cv2.circle(img, (hx, int(y - 2.5 * r)), max(2, r // 2 + 1), (200, 250, 255), -1)
            return
        h = {"car": 0.085, "angkot": 0.10, "bus": 0.17}[v.kind] * H * s
        top = int(y - h)
        body = _scale_color(v.color, f)
        wheel = max(2, int(0.02 * H * s))
        if v.kind == "car":
            cv2.rectangle(img, (xi, int(y - h * 0.55)), (int(xi + L), y - wheel), body, -1)
            cv2.rectangle(img, (int(xi + L * 0.2), top), (int(xi + L * 0.78), int(y - h * 0.5)), body, -1)
            cv2.rectangle(
                img,
                (int(xi + L * 0.25), top + 2),
                (int(xi + L * 0.73), int(y - h * 0.56)),
                _scale_color((90, 70, 50), f),
                -1,
            )
        else:
            cv2.rectangle(img, (xi, top), (int(xi + L), y - wheel), body, -1)
            step = max(6, int(L / 6))
            for wx in range(int(xi + 4), int(xi + L - step), step):
                cv2.rectangle(
                    img, (wx, top + 3), (wx + step - 3, int(top + h * 0.4)), _scale_color((100, 80, 60), f), -1
                )
        cv2.circle(img, (int(xi + L * 0.2), y - wheel), wheel, (15, 15, 15), -1)
        cv2.circle(img, (int(xi + L * 0.8), y - wheel), wheel, (15, 15, 15), -1)
        if night:
            hx = xi if v.speed < 0 else int(xi + L)
            cv2.circle(img, (hx, int(y - h * 0.35)), max(2, wheel // 2 + 1), (200, 250, 255), -1)
            tx = int(xi + L) if v.speed < 0 else xi
            cv2.circle(img, (tx, int(y - h * 0.35)), max(1, wheel // 3 + 1), (30, 30, 230), -1)

    def _draw_person(self, img: np.ndarray, p: _Person, x: float, ts: float, walking: bool) -> None:
        H = self.height
        gy, s = _BANDS[p.band]
        y = int((gy + p.dy) * H)
        h = p.height * H * s
        f = self._light
        xi = int(x)
        w = max(1, int(h * 0.14))
        if walking:
            stride = int(h * 0.12 * math.sin(ts * 7.0 + p.x * 20.0))
        else:
            stride = int(h * 0.04 * math.sin(ts * 1.3 + p.speed))
            xi += int(h * 0.03 * math.sin(ts * 0.7 + p.speed * 2.0))
        leg_top = int(y - h * 0.45)
        lw = max(1, w // 2 + 1)
        pants = _scale_color((50, 45, 40), f)
        cv2.line(img, (xi, leg_top), (xi - stride, y), pants, lw)
        cv2.line(img, (xi, leg_top), (xi + stride, y), pants, lw)
        cv2.rectangle(img, (xi - w, int(y - h * 0.82)), (xi + w, leg_top), _scale_color(p.shirt, f), -1)
        cv2.circle(img, (xi, int(y - h * 0.9)), max(1, int(h * 0.085)), _scale_color(p.skin, f), -1)

    def _draw_fire(self, img: np.ndarray, inc: Incident, ts: float, k: int, flames: bool) -> None:
        H, W = self.height, self.width
        cx = int(inc.x * W)
        base = int(_BUILDING_BASE * H)
        grow = min(1.0, max(0.0, (ts - inc.start_s) / inc.ramp_s))
        self._draw_smoke(img, cx, base, ts, grow)
        if not flames:
            return
        fw = int(W * 0.07 * (0.6 + 0.4 * grow))
        fh = H * 0.22 * (0.6 + 0.4 * grow)
        gh, gw = int(fh * 2.2) + 2, fw * 4 + 2
        sprite = cv2.resize(self._glow, (gw, gh))[: gh // 2 + 1]
        gy0, gx0 = max(0, base - sprite.shape[0]), max(0, cx - gw // 2)
        gsub = img[gy0:base, gx0 : gx0 + gw]
        sp = sprite[sprite.shape[0] - gsub.shape[0] :, : gsub.shape[1], None]
        amp = (0.0, 70.0, 150.0) if self.script.night else (0.0, 45.0, 110.0)
        tint = (sp * np.array(amp, np.float32)[None, None, :]).astype(np.uint8)
        img[gy0:base, gx0 : gx0 + gsub.shape[1]] = cv2.add(gsub, tint)
        frame_rng = np.random.default_rng((k * 7919 + self.seed) & 0xFFFFFFFF)
        jitter = frame_rng.uniform(0.65, 1.0, size=len(self._flame_params))
        for i, (px, pw, pf, pp) in enumerate(self._flame_params):
            fx = int(cx + (px - 0.5) * fw)
            flick = 0.55 + 0.25 * math.sin(ts * (8 + 10 * pf) + 6.28 * pp) + 0.2 * jitter[i]
            hh = max(3, int(fh * flick * (1.0 - abs(px - 0.5))))
            ww = max(2, int(fw * (0.12 + 0.12 * pw)))
            for frac, col in (
                (1.0, (0, 40, 210)),
                (0.75, (0, 120, 255)),
                (0.5, (40, 210, 255)),
                (0.25, (190, 250, 255)),
            ):
                a = max(1, int(hh * frac * 0.5))
                b = max(1, int(ww * frac))
                cv2.ellipse(img, (fx, base - a), (b, a), 0, 0, 360, col, -1)

    def _draw_smoke(self, img: np.ndarray, cx: int, base: int, ts: float, grow: float) -> None:
        """A semi-transparent smoke plume: soft puffs rise from the fire, spread, thin and drift downwind, with a
        billowing texture. Composited as I = (1 - a) * scene + a * smoke colour (a <= 0.8): the scene behind stays
        faintly visible, its contrast and edges fade, its colours turn grey."""
        H, W = self.height, self.width
        sh, sw = max(8, H // 4), max(8, W // 4)  # the plume is smooth: render its density at quarter size
        fy, fx = sh / H, sw / W
        yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
        dens = np.zeros((sh, sw), np.float32)
        dark = np.zeros((sh, sw), np.float32)  # density-weighted youth: young smoke near the fire is darker
        for i, (ph, dr, rs) in enumerate(self._smoke_params):
            age = (ts * 0.12 + ph) % 1.0
            if age > 0.2 + 0.8 * grow:
                continue
            py = (base - H * 0.06 - age * H * 0.5) * fy
            px = (cx + (dr - 0.5) * W * 0.04 + age * W * 0.2 + 0.012 * W * math.sin(ts * 0.8 + i)) * fx
            sigma = H * (0.025 + 0.085 * age) * (0.7 + 0.6 * rs) * fy
            amount = 1.6 * (1.0 - age) ** 1.3  # the same smoke spread over a growing puff thins out
            blob = amount * np.exp(-((xx - px) ** 2 + (yy - py) ** 2) / (2.0 * sigma * sigma))
            dens += blob
            dark += blob * (1.0 - age)
        if float(dens.max()) < 1e-3:
            return
        # billowing texture drifting with the wind (tileable noise, sampled with a moving offset)
        tile = self._turbulence
        oy, ox = int(ts * 6.0) % tile.shape[0], int(-ts * 9.0) % tile.shape[1]
        reps = (-(-(sh + oy) // tile.shape[0]), -(-(sw + ox) // tile.shape[1]))
        turb = np.tile(tile, reps)[oy : oy + sh, ox : ox + sw]
        alpha_lo = np.minimum(0.85, 1.0 - np.exp(-1.5 * dens * turb))
        youth_lo = dark / np.maximum(dens, 1e-6)
        alpha = cv2.GaussianBlur(cv2.resize(alpha_lo, (W, H), interpolation=cv2.INTER_LINEAR), (0, 0), 1.5)
        youth = cv2.resize(youth_lo, (W, H), interpolation=cv2.INTER_LINEAR)
        rows = np.nonzero(alpha.max(axis=1) > 0.01)[0]
        cols = np.nonzero(alpha.max(axis=0) > 0.01)[0]
        if len(rows) == 0 or len(cols) == 0:
            return
        roi = (slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1))
        a = alpha[roi][..., None]
        y = youth[roi][..., None]
        if self.script.night:  # lit from below by the fire near the source, dark elsewhere
            colour = np.array([55.0, 60.0, 66.0], np.float32) + y * np.array([10.0, 40.0, 80.0], np.float32)
        else:  # grey-brown near the fire, pale grey as it dilutes
            colour = np.array([196.0, 196.0, 192.0], np.float32) - y * np.array([95.0, 92.0, 85.0], np.float32)
        colour *= max(self._light, 0.5) if not self.script.night else 1.0
        scene = img[roi].astype(np.float32)
        img[roi] = np.clip(scene * (1.0 - a) + colour * a, 0, 255).astype(np.uint8)

    def _draw_pole(self, img: np.ndarray) -> None:
        H, W = self.height, self.width
        x = int(_POLE_X * W)
        base = int(_BANDS[5][0] * H)
        ppc = _POLE_FRAC * H / _POLE_CM * _BANDS[5][1]
        top = int(base - _POLE_CM * ppc)
        pw = max(3, W // 110)
        f = max(self._light, 0.6)
        cv2.rectangle(img, (x - pw, top), (x + pw, base), _scale_color((235, 235, 235), f), -1)
        for cm in range(10, int(_POLE_CM) + 1, 10):
            y = int(base - cm * ppc)
            long = cm % 50 == 0
            cv2.line(img, (x - pw, y), (x + (2 * pw if long else 0), y), (20, 20, 20), 1)
        for lo, hi in ((70, 80), (150, 160)):
            cv2.rectangle(img, (x - pw, int(base - hi * ppc)), (x + pw, int(base - lo * ppc)), (30, 30, 200), -1)
        cv2.rectangle(img, (x - pw, top - 2), (x + pw, top + 2), (30, 30, 200), -1)

    def _draw_water(self, img: np.ndarray, y_top: int, y_bot: int, ts: float, alpha: float) -> None:
        H, W = self.height, self.width
        y_top, y_bot = max(0, y_top), min(H, y_bot)
        if y_bot <= y_top:
            return
        roi = img[y_top:y_bot]
        water = np.empty_like(roi)
        water[:] = _scale_color((55, 95, 125), max(self._light, 0.5))
        rows = np.arange(y_top, y_bot)
        ripple = (np.sin(rows * 0.45 + ts * 2.0) > 0.97).nonzero()[0]
        water[ripple] = _scale_color((85, 125, 150), max(self._light, 0.5))
        if alpha >= 0.999:
            roi[:] = water
        else:
            roi[:] = cv2.addWeighted(roi, 1.0 - alpha, water, alpha, 0.0)
        cv2.line(img, (0, y_top), (W, y_top), _scale_color((120, 150, 170), max(self._light, 0.5)), 1)

    def render(self, t: float) -> tuple[np.ndarray, GroundTruth]:
        """Frame without the JPEG round trip: ((H, W, 3) uint8 BGR, truth)."""
        k = self.frame_index(t)
        fault = self._fault(t)
        if fault is not None and fault.kind == "frozen":
            k = self.frame_index(fault.start_s)
        ts = k / self.fps
        truth = self._truth(ts, self.frame_index(t), fault)
        if fault is not None and fault.kind in ("black", "covered"):
            img: np.ndarray = np.zeros((self.height, self.width, 3), np.uint8)
            if fault.kind == "covered":
                yy = np.linspace(18, 34, self.height, dtype=np.float32)[:, None, None]
                img[:] = (yy * np.array([0.8, 0.9, 1.1], np.float32)[None, None, :]).astype(np.uint8)
            pos, neg = self._noise[k % self.N_NOISE]
            img = cv2.add(img, pos // 2)
            return img, truth
        img = self._background.copy()
        H, W = self.height, self.width
        night = self.script.night
        inc, flames, _smoke = self._fire_state(ts)
        if inc is not None:
            self._draw_fire(img, inc, ts, k, flames)
        depth = self._flood_cm(ts)
        ppc = _POLE_FRAC * H / _POLE_CM
        vis = self._visible_vehicles(depth)
        by_band: dict[int, list[tuple[str, Any, float]]] = {b: [] for b in range(len(_BANDS))}
        for i, v in enumerate(self._vehicles):
            if (i % 10) / 10.0 < vis:
                x = self._vehicle_x(v, ts)
                if -v.length < x < W:
                    by_band[v.band].append(("v", v, x))
        for p in self._walkers:
            x = self._walker_x(p, ts)
            if -20 < x < W + 20:
                by_band[p.band].append(("w", p, x))
        for p in self._crowd[: self._crowd_n(ts)]:
            by_band[p.band].append(("c", p, p.x * W))
        for b, (gy, s) in enumerate(_BANDS):
            items = sorted(by_band[b], key=lambda it: it[1].dy if it[0] != "v" else 0.0)
            for typ, obj, x in items:
                if typ == "v":
                    self._draw_vehicle(img, obj, x, night)
                else:
                    self._draw_person(img, obj, x, ts, typ == "w")
            if b == 5:
                self._draw_pole(img)
            if depth > 0.0:
                alpha = min(1.0, 0.35 + depth / 15.0)
                y_top = int(gy * H - depth * ppc * s)
                y_bot = int(_BANDS[b + 1][0] * H - depth * ppc * _BANDS[b + 1][1]) if b + 1 < len(_BANDS) else H
                if b == 0:
                    y_top = min(y_top, int(_BUILDING_BASE * H - depth * ppc * 0.45))
                self._draw_water(img, y_top, max(y_bot, int(gy * H) + 2), ts, alpha)
        if self._rain:
            img = cv2.add(img, self._rain[k % self.N_RAIN])
        pos, neg = self._noise[k % self.N_NOISE]
        img = cv2.subtract(cv2.add(img, pos), neg)
        if fault is not None and fault.kind == "moved":
            ang = 9.0 + 4.0 * ((self.seed % 3) - 1)
            m = cv2.getRotationMatrix2D((W / 2, H / 2), ang, 1.25)
            m[0, 2] += W * 0.18
            m[1, 2] += H * 0.22
            img = cv2.warpAffine(img, m, (W, H), borderMode=cv2.BORDER_REFLECT)
        return img, truth

    def frame_at(self, t: float) -> tuple[np.ndarray, GroundTruth]:
        """((H, W, 3) uint8 BGR with JPEG artefacts, truth) for the frame shown at time ``t`` seconds."""
        img, truth = self.render(t)
        q = self.script.jpeg_quality
        if q > 0:
            ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(q)])
            dec = cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else None
            if dec is not None:
                img = dec
        return img, truth

    def jpeg_at(self, t: float, quality: int | None = None) -> tuple[bytes, GroundTruth]:
        """JPEG bytes of the frame at ``t`` (encoded once, quality from the script unless given)."""
        img, truth = self.render(t)
        q = int(quality if quality is not None else (self.script.jpeg_quality or 85))
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, q])
        if not ok:  # pragma: no cover - cv2 always encodes uint8 BGR
            raise RuntimeError("JPEG encoding failed")
        return buf.tobytes(), truth
