"""Built-in detectors: fire, smoke, flood, crowd.

Each combines Pantau's learned scene head (single-frame evidence) with physical colour/texture features and,
once the camera's temporal state is warm, with temporal evidence (flicker, spreading, change against the
background or the dry reference). Stills (no history) use single-frame evidence only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from analytics.vision.base import DetectorResult, FrameMaps
from analytics.vision.config import CameraVisionConfig, depth_class
from analytics.vision.features import abs_diff_mean, chan_sum
from analytics.vision.frame import WORK_SIZE, Frame
from analytics.vision.head import head_outputs
from analytics.vision.state import CameraState


def _clip01(x: float) -> float:
    return float(min(1.0, max(0.0, x)))


def _nz(x: float, default: float) -> float:
    return default if x is None or math.isnan(x) else float(x)


def polygon_mask(poly: Sequence[tuple[float, float]] | None, size: tuple[int, int] = WORK_SIZE) -> np.ndarray:
    """Fractional polygon -> (H, W) bool mask at ``size`` = (W, H); None -> all True."""
    w, h = size
    if poly is None:
        return np.ones((h, w), bool)
    pts = np.array([[round(x * (w - 1)), round(y * (h - 1))] for x, y in poly], np.int32)
    m = np.zeros((h, w), np.uint8)
    cv2.fillPoly(m, [pts], 1)
    return m.astype(bool)


def box_mask(box: tuple[float, float, float, float], size: tuple[int, int] = WORK_SIZE) -> np.ndarray:
    """Fractional (x0, y0, x1, y1) -> (H, W) bool mask, at least one pixel."""
    w, h = size
    x0, y0, x1, y1 = box
    m = np.zeros((h, w), bool)
    c0, r0 = int(x0 * w), int(y0 * h)
    m[r0 : max(r0 + 1, math.ceil(y1 * h)), c0 : max(c0 + 1, math.ceil(x1 * w))] = True
    return m


def fruin_level(density: float | None) -> str | None:
    """Fruin walkway level of service from persons/m^2 (A <= 0.31 < B <= 0.43 < C <= 0.72 < D <= 1.08 < E <= 2.17 < F)."""
    if density is None or math.isnan(density):
        return None
    for level, upper in (("A", 0.31), ("B", 0.43), ("C", 0.72), ("D", 1.08), ("E", 2.17)):
        if density <= upper:
            return level
    return "F"


#: frames over which fire flicker must persist (mean of the per-frame in-place flicker)
FIRE_PERSIST = 3
K2 = np.ones((2, 2), np.uint8)
#: frames before smoke compares against the background (about 1 / CameraState.bg_alpha: the model settles)
SMOKE_SETTLE_FRAMES = 10
K3 = np.ones((3, 3), np.uint8)


@dataclass(frozen=True)
class FireBlob:
    """One flame-coloured blob seen in two consecutive frames.

    flicker: in-place flicker evidence in [0, 1]; in_place: share of newly flame-coloured pixels that were
    flame-coloured recently; lum: mean |d gray| over its changing pixels; shift: horizontal centroid shift
    relative to its width; mask: (90, 160) bool flame pixels of the blob now; n_change: pixels whose brightness
    changed (> 0.08, in 2x2 patches); n_union: flame pixels now or before; core: pixels of that union left by a
    3x3 erosion (body thickness); kept: share of changed pixels flame-coloured in both frames.
    """

    flicker: float
    in_place: float
    lum: float
    shift: float
    mask: np.ndarray
    n_change: int = 0
    n_union: int = 0
    core: int = 0
    kept: float = 0.0


def fire_blobs(
    flame: np.ndarray,
    flame_p: np.ndarray,
    gray: np.ndarray,
    prev_flame: np.ndarray | None,
    prev_gray: np.ndarray | None,
) -> list[FireBlob]:
    """Flame-coloured blobs present in this and the previous frame, each with its in-place flicker.

    A flame stays where it is while its tongues come and go with large brightness changes. Rejected:
    steady lamps, signs and orange facades (colour toggles only at their edges, by sensor noise, with tiny
    brightness change), moving lights and vehicles (they arrive where no flame colour was and their
    centroid shifts sideways), and blobs seen in one frame only.
    flame, prev_flame: (H, W) bool; flame_p: (H, W) float flame-colour frequency; gray, prev_gray: (H, W).
    """
    if prev_flame is None or prev_gray is None:
        return []
    union = flame | prev_flame
    if int(union.sum()) < 8:
        return []
    d = np.abs(gray - prev_gray.astype(np.float32))
    bright = d > 0.08
    blob = cv2.dilate(union.astype(np.uint8), np.ones((3, 3), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(blob, connectivity=8)
    out = []
    for i in range(1, n):
        if stats[i, cv2.CC_STAT_AREA] < 8:
            continue
        x0, y0 = stats[i, cv2.CC_STAT_LEFT], stats[i, cv2.CC_STAT_TOP]
        sl = (slice(y0, y0 + stats[i, cv2.CC_STAT_HEIGHT]), slice(x0, x0 + stats[i, cv2.CC_STAT_WIDTH]))
        cm = labels[sl] == i
        now, prev = flame[sl] & cm, prev_flame[sl] & cm
        n_now, n_prev = int(now.sum()), int(prev.sum())
        if n_now < 4 or n_prev < 4:
            continue  # appeared or vanished: a light passing by, not a flame in place
        both = now | prev
        n_union = int(both.sum())
        # a flame is a body, not a line (lane markings, facade bands and window frames are 1-3 px thin)
        core = int(cv2.erode(both.astype(np.uint8), K3, borderType=cv2.BORDER_CONSTANT, borderValue=0).sum())
        # flames change brightness in patches; rain streaks and noise change thin lines (a 2x2 opening
        # removes them)
        chg = cv2.morphologyEx((bright[sl] & both).astype(np.uint8), cv2.MORPH_OPEN, K2).astype(bool)
        n_chg = int(chg.sum())
        if n_chg < 4:
            continue
        # a flame's tongues stay flame-coloured as they brighten and dim; a vehicle or person passing in front
        # of an orange facade or lamp replaces the flame colour with its own
        kept = float((chg & now & prev).sum()) / n_chg
        lum = float(d[sl][chg].mean())
        xs_now = np.nonzero(now)[1]
        xs_prev = np.nonzero(prev)[1]
        width = max(3.0, float(max(xs_now.max(), xs_prev.max()) - min(xs_now.min(), xs_prev.min()) + 1))
        shift = abs(float(xs_now.mean()) - float(xs_prev.mean())) / width
        new_on = now & ~prev
        ip = float((flame_p[sl][new_on] > 0.15).mean()) if int(new_on.sum()) >= 3 else 1.0
        flicker = (
            _clip01(max((n_chg / n_union) / 0.15, n_chg / 30.0))
            * _clip01((n_chg - 3) / 8.0)
            * (1.0 - _clip01((shift - 0.08) / 0.12))
            * _clip01(ip / 0.5)
            * _clip01((core - 2) / 8.0)
            * _clip01(kept / 0.4)
        )
        mask = np.zeros(flame.shape, bool)
        mask[sl] = now
        out.append(FireBlob(flicker, ip, lum, shift, mask, n_chg, n_union, core, kept))
    return out


class FireDetector:
    """Flame colour + learned head; with history, in-place flicker of a flame-coloured body, persisting over
    ``FIRE_PERSIST`` frames, and growth (see :func:`fire_blobs`: steady lamps and facades never flicker, moving
    lights and vehicles are never in place, thin lane lines and rain streaks are not a body)."""

    name = "fire"
    version = "fire-v2"

    def __init__(self, every: int = 2) -> None:
        self.every = every

    def _local_p(self, frame: Frame, state: CameraState, cand: np.ndarray) -> float:
        """Learned fire probability of a square crop around candidate pixels ((90, 160) bool), reused for
        ``every`` frames."""
        age = int(state.scratch.get("fire_local_age", 1 << 30))
        if age < self.every - 1:
            state.scratch["fire_local_age"] = age + 1
            return float(state.scratch.get("fire_local_p", 0.0))
        p = 0.0
        if int(cand.sum()) >= 4:
            # the largest cluster of candidate pixels (dilated so that a flickering flame is one blob)
            blob = cv2.dilate(cand.astype(np.uint8), np.ones((5, 5), np.uint8))
            n, labels, stats, _ = cv2.connectedComponentsWithStats(blob, connectivity=8)
            best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA])) if n > 1 else 0
            ys, xs = np.nonzero((labels == best) & cand) if n > 1 else np.nonzero(cand)
            cx, cy = (xs.min() + xs.max()) / 2.0, (ys.min() + ys.max()) / 2.0
            side = max(20.0, 2.0 * max(xs.max() - xs.min() + 1, ys.max() - ys.min() + 1))
            sx, sy = frame.width / WORK_SIZE[0], frame.height / WORK_SIZE[1]
            x0, x1 = int(max(0, (cx - side / 2) * sx)), int(min(frame.width, (cx + side / 2) * sx))
            y0, y1 = int(max(0, (cy - side / 2) * sy)), int(min(frame.height, (cy + side / 2) * sy))
            if x1 - x0 >= 8 and y1 - y0 >= 8:
                p = _nz(head_outputs(Frame(frame.bgr[y0:y1, x0:x1], frame.ts))["fire"], 0.0)
        state.scratch["fire_local_age"] = 0
        state.scratch["fire_local_p"] = p
        return p

    def score(self, frame: Frame, state: CameraState) -> DetectorResult:
        m = FrameMaps.of(frame)
        p = head_outputs(frame)["fire"]
        flame = m.flame
        frac = float(flame.mean())
        presence = _clip01(frac / 0.004)
        p = _nz(p, presence)
        feats = {"flame_frac": frac, "colour_presence": presence, "head_p": p}
        if not state.warm or state.flame_p is None:
            if state.stream:  # first frames of a stream: no flicker yet, the head alone stays < 0.3
                return DetectorResult(_clip01(0.25 * p * presence), feats)
            return DetectorResult(_clip01(p * (0.4 + 0.6 * presence)), feats)
        fp = state.flame_p.astype(np.float32)
        blobs = fire_blobs(flame, fp, m.gray, state.prev_flame, state.prev_gray)
        best = max(blobs, key=lambda b: b.flicker) if blobs else None
        now = best.flicker if best is not None else 0.0
        in_place = best.in_place if best is not None else 0.0
        lum = best.lum if best is not None else 0.0
        # persistence: a flame flickers frame after frame; one vehicle passing or one noisy frame is not a fire
        hist = [*list(state.flicker)[-(FIRE_PERSIST - 1) :], now]
        temporal = float(np.mean(hist)) if len(hist) >= FIRE_PERSIST else 0.0
        growth = 0.0
        if state.flame_area and frac > 0.002:
            base = float(np.median(list(state.flame_area)))
            growth = _clip01((frac / (base + 1e-4) - 1.0) / 1.0)
        # growth only supports flicker that is already there (an orange bus entering the view also adds area)
        evidence = _clip01(temporal * (1.0 + 0.5 * growth))
        # the learned head must agree, on the whole frame or on a crop around the flickering blob (a small fire
        # in a wide street view): temporal evidence alone (orange shirts passing signs) stays < 0.25
        p_local = self._local_p(frame, state, best.mask) if best is not None and evidence > 0.2 else 0.0
        agree = 0.35 + 0.65 * _clip01((max(p, p_local) - 0.2) / 0.3)
        # on a stream the head alone (an orange facade or bus it takes for fire) stays < 0.3: flicker must exist
        score = presence * (0.25 * p + 0.75 * evidence * agree)
        feats.update(
            {
                "head_p_local": p_local,
                "flicker_now": now,
                "flicker": now,
                "lum_flicker": lum,
                "in_place": in_place,
                "growth": growth,
                "temporal": temporal,
                "n_blobs": float(len(blobs)),
            }
        )
        return DetectorResult(_clip01(score), feats)


class SmokeDetector:
    """Grey, low-saturation regions (learned head); with history, new grey regions that soften the background's
    edges and spread over frames."""

    name = "smoke"
    version = "smoke-v1"

    def score(self, frame: Frame, state: CameraState) -> DetectorResult:
        m = FrameMaps.of(frame)
        p = head_outputs(frame)["smoke"]
        grey = (m.s < 0.22) & (m.v > 0.3)
        grey_frac = float(grey.mean())
        gate = _clip01(grey_frac / 0.1)
        p = _nz(p, gate)
        still = _clip01(p * (0.4 + 0.6 * gate))
        feats = {"grey_frac": grey_frac, "head_p": p, "still": still}
        if not state.warm or state.bg is None or state.bg_grad is None:
            return DetectorResult(still, feats)
        if state.n_frames < SMOKE_SETTLE_FRAMES:
            # a young background still holds the first frames' vehicles and people: where they left, the
            # road differs from it, greyer and smoother than their edges ("softening" ghosts)
            return DetectorResult(still, feats)
        smoke_px = self.mask(m, state)
        a = float(smoke_px.mean())
        soft = 0.0
        if smoke_px.any():
            g_bg = float(state.bg_grad[smoke_px].mean())
            soft = _clip01(1.0 - float(m.grad[smoke_px].mean()) / max(g_bg, 1e-3)) if g_bg > 0.05 else 0.5
        hist = list(state.smoke_area)[-6:]
        spreading = _clip01((a - min(hist)) / 0.03) if hist else 0.0
        sustained = _clip01(a / 0.04)
        # smoke softens what is behind it; vehicles and people add edges (soft ~ 0) however grey they are
        temporal = sustained * _clip01(soft / 0.3) * (0.6 + 0.4 * spreading)
        score = max(0.3 * p + 0.7 * temporal, 0.6 * still)
        feats.update({"smoke_area": a, "softening": soft, "spreading": spreading, "temporal": temporal})
        return DetectorResult(_clip01(score), feats)

    @staticmethod
    def mask(m: FrameMaps, state: CameraState) -> np.ndarray:
        """(H, W) bool smoke candidates: changed against the background, low saturation (< 0.35) and not more
        saturated than the background there (smoke greys what is behind it, e.g. a plume over blue sky)."""
        if state.bg is None:
            return np.zeros(m.s.shape, bool)
        bg_s = state.bg_sat if state.bg_sat is not None else np.zeros_like(m.s)
        fg = state.bg_diff(m) > 0.06
        return fg & (m.v > 0.25) & (m.s < 0.35) & (m.s <= bg_s + 0.05)

    @staticmethod
    def smoke_pixels(frame: Frame, state: CameraState) -> float:
        """Fraction of smoke-candidate pixels (kept in the state's history to measure spreading)."""
        return float(SmokeDetector.mask(FrameMaps.of(frame), state).mean())


class FloodDetector:
    """Water over the road ROI: learned head on stills; with a dry reference, smooth, re-coloured change over the
    road (lane markings and texture vanish, chromaticity shifts) and submerged reference marks for depth."""

    name = "flood"
    version = "flood-v1"

    def __init__(self, config: CameraVisionConfig | None = None) -> None:
        self.config = config or CameraVisionConfig()
        self.roi = polygon_mask(self.config.road_roi)
        self.marks = [(mk, box_mask(mk.box)) for mk in self.config.reference_marks]

    def water_mask(self, m: FrameMaps, state: CameraState) -> np.ndarray | None:
        """(H, W) bool water pixels against the dry reference, or None without one."""
        dd = state.dry_derived()
        if dd is None or state.dry_frames < state.dry_warmup:
            return None
        ref, ref_chroma, ref_grad = dd
        diff = abs_diff_mean(m.f, ref)
        chroma = 3.0 * abs_diff_mean(m.f / (chan_sum(m.f)[..., None] + 1e-3), ref_chroma)
        smooth = cv2.blur(m.grad, (3, 3)) <= ref_grad + 0.03
        return (diff > 0.05) & smooth & (chroma > 0.05)

    def score(self, frame: Frame, state: CameraState) -> DetectorResult:
        m = FrameMaps.of(frame)
        p = head_outputs(frame)["flood"]
        roi_smooth = float((m.grad[self.roi] < 0.1).mean())
        p = _nz(p, 0.0)
        feats: dict[str, float] = {"head_p": p, "roi_smooth": roi_smooth}
        water = self.water_mask(m, state) if state.warm else None
        if water is None:
            score = _clip01(p)
            feats["depth_class"] = float("nan")
            return DetectorResult(score, feats)
        coverage = float(water[self.roi].mean())
        temporal = _clip01(coverage / 0.35)
        score = _clip01(0.25 * p + 0.75 * temporal)
        feats.update({"coverage": coverage, "temporal": temporal})
        depth_cm: float | None = None
        for mk, box in self.marks:
            sub = float(water[box].mean())
            feats[f"mark_{mk.name}"] = sub
            if sub > 0.5:
                depth_cm = max(depth_cm or 0.0, mk.height_cm)
        feats["depth_cm"] = float("nan") if depth_cm is None else depth_cm
        feats["depth_class"] = float(depth_class(depth_cm)) if score >= self.config.thresholds.flood else float("nan")
        return DetectorResult(score, feats)


class CrowdDetector:
    """Persons from the learned count head (stills) fused with a foreground blob detector (upright person-sized
    blobs count one each; merged blobs count by area, for occluding crowds). Density and Fruin level where the
    walkable zone's area is calibrated."""

    name = "crowd"
    version = "crowd-v1"

    def __init__(self, config: CameraVisionConfig | None = None) -> None:
        self.config = config or CameraVisionConfig()
        self.walk = polygon_mask(self.config.walk_roi)
        w, h = WORK_SIZE
        self.person_px = self.config.person_area_frac * w * h

    def blob_persons(self, fg: np.ndarray) -> tuple[float, int]:
        """(H, W) bool foreground -> (persons by blobs and area, number of person-like blobs)."""
        mask = cv2.morphologyEx((fg & self.walk).astype(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
        n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        persons, singles = 0.0, 0
        for i in range(1, n):
            bw, bh, area = stats[i, 2], stats[i, 3], stats[i, 4]
            if area < 0.3 * self.person_px or bw > 1.6 * bh:
                continue  # noise, or a wide blob = vehicle
            if area <= 2.5 * self.person_px:
                persons += 1.0
                singles += 1
            else:
                persons += area / self.person_px
        return persons, singles

    def score(self, frame: Frame, state: CameraState) -> DetectorResult:
        m = FrameMaps.of(frame)
        head = head_outputs(frame)
        p = _nz(head["crowd"], 0.0)
        c = _nz(head["count"], 0.0)
        feats: dict[str, float] = {"head_p": p, "head_count": c}
        persons = c
        if state.warm:
            fg = state.foreground(m)
            pf, singles = self.blob_persons(fg)
            feats.update({"blob_persons": pf, "blob_singles": float(singles)})
            persons = 0.5 * (c + pf)
        density = None
        if self.config.walk_area_m2:
            density = persons / self.config.walk_area_m2
            score = max(_clip01(density / 1.44), 0.5 * p)
        else:
            score = max(p, _clip01(persons / self.config.crowd_capacity))
        feats["persons"] = persons
        feats["density"] = float("nan") if density is None else density
        return DetectorResult(_clip01(score), feats)
