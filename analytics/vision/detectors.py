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

from analytics.vision.base import DetectorResult, FrameMaps, frame_cache
from analytics.vision.config import CameraVisionConfig, depth_class
from analytics.vision.features import abs_diff_mean, chan_sum
from analytics.vision.frame import WORK_SIZE, Frame
from analytics.vision.head import head_outputs, people_count_range
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
#: on a stream, the head's calibrated fire score below the first value vetoes flicker evidence; from the second on
#: it does not (see FireDetector.score)
FIRE_HEAD_VETO = (0.05, 0.12)
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
            # a still image: the head's calibrated score (it sees colour itself; IR and night fires have none)
            return DetectorResult(_clip01(p), feats)
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
        # the learned head must not rule fire out, on the whole frame or on a crop around the flickering blob (a
        # small fire in a wide street view): temporal evidence the head scores below FIRE_HEAD_VETO[0] (orange
        # shirts passing signs) stays < 0.3. The head's scores are calibrated (0.5 = a still image's fire), and
        # far from a fire they sit near 0: a flickering flame-coloured body it does not rule out counts in full
        p_local = self._local_p(frame, state, best.mask) if best is not None and evidence > 0.2 else 0.0
        lo, hi = FIRE_HEAD_VETO
        agree = 0.35 + 0.65 * _clip01((max(p, p_local) - lo) / (hi - lo))
        # on a stream the head alone (an orange facade or bus it takes for fire) stays < 0.3: flicker must exist
        score = presence * (0.2 * p + 0.8 * evidence * agree)
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


#: smallest smoke region considered (pixels at the 160x90 working size)
SMOKE_MIN_PX = 12
#: a region whose edge energy (with its rim) is below this share of the background's is "softened"
SMOKE_SOFT_RATIO = 0.85
#: per-pixel edge energy floor of the background (flat sky, walls): smoke there cannot soften, only not add edges
SMOKE_GRAD_FLOOR = 0.08
#: smoke's change against the background fades out at its border; a vehicle, a person or the ghost of one that
#: left changes the scene with a sharp outline. Sharpness = mean |grad of the change| over region and rim / mean
#: change in the region (Sobel 3x3 at 160x90: a one-pixel step scores about 3, a veil fading over a plume ~1.5)
SMOKE_MAX_SHARPNESS = 2.1
#: ...unless the background still shows through it: a semi-transparent veil keeps the background's edges where
#: they were, only fainter (correlation of the edge energies now and in the background over region and rim >=
#: this), while the change over textured scenery looks sharper than over sky; the outline still caps it
SMOKE_TRANSPARENT_CORR = 0.7
SMOKE_TRANSPARENT_MAX_SHARPNESS = 3.0
#: over a flat background (night sky, a plain wall) smoke has nothing to soften: there a region counts when its
#: border is very diffuse, it brings no outline of its own, it greys what is behind (saturation falls by this much)
#: and stays local (a global brightness change, e.g. exposure or clouds, is not smoke); its softening evidence is
#: then taken as this neutral value
SMOKE_FLAT_MAX_SHARPNESS = 1.9
SMOKE_FLAT_BG_GRAD = 0.2
SMOKE_FLAT_MAX_RATIO = 1.6
SMOKE_FLAT_DESATURATION = 0.05
SMOKE_FLAT_SOFTENING = 0.3
SMOKE_MAX_AREA = 0.8
#: brightness ratio minus edge-energy ratio (now / background) a softened region needs (see airlight below)
SMOKE_MIN_AIRLIGHT = 0.05
#: smoke area (share of the frame, median of the last 3 frames) at which smoke counts as fully sustained
SMOKE_SUSTAINED_AREA = 0.02
#: limits are loosened by this factor for a region that overlaps last frame's smoke
SMOKE_TRACKED_RELAX = 1.3


@dataclass(frozen=True)
class SmokeRegions:
    """Smoke candidate regions of one frame against the background model.

    mask: (90, 160) bool pixels of the regions that soften the background with a diffuse border; area: their
    share of the frame; softening: their area-weighted mean 1 - (edge energy now / background edge energy), rims
    included; n_candidates / n_soft: candidate regions seen / kept.
    """

    mask: np.ndarray
    area: float
    softening: float
    n_candidates: int
    n_soft: int


class SmokeDetector:
    """Grey, low-saturation regions (learned head); with history, regions that changed against the background,
    turned greyer, and *soften* it: smoke is a semi-transparent veil, so each region's edge energy, its rim
    included, drops below the background's (vehicles, people and signs add edges and an outline, however grey
    they are), its change fades out at its border (the ghost of a vehicle that left has a sharp outline), and it
    lingers and spreads over frames."""

    name = "smoke"
    version = "smoke-v2"

    def score(self, frame: Frame, state: CameraState) -> DetectorResult:
        m = FrameMaps.of(frame)
        p = head_outputs(frame)["smoke"]
        grey = (m.s < 0.22) & (m.v > 0.3)
        grey_frac = float(grey.mean())
        gate = _clip01(grey_frac / 0.1)
        p = _nz(p, gate)
        # a still image: the head's calibrated score; on a stream the grey-area gate keeps the head alone low
        still = _clip01(p * (0.4 + 0.6 * gate)) if state.stream else _clip01(p)
        feats = {"grey_frac": grey_frac, "head_p": p, "still": still}
        if not state.warm or state.bg is None or state.bg_grad is None:
            return DetectorResult(still, feats)
        if state.n_frames < SMOKE_SETTLE_FRAMES:
            # a young background still holds the first frames' vehicles and people: where they left, the
            # road differs from it, greyer and smoother than their edges ("softening" ghosts)
            return DetectorResult(still, feats)
        reg = self.regions(frame, state)
        a = reg.area
        hist = list(state.smoke_area)[-6:]
        spreading = _clip01((a - min(hist)) / 0.02) if hist else 0.0
        # smoke lingers: the soft area of the last frames, not one frame's flash (a bus passing, a cloud shadow)
        recent = sorted([*hist[-2:], a])
        sustained = (
            _clip01(recent[1] / SMOKE_SUSTAINED_AREA) if len(recent) >= 3 else 0.0
        )  # median of 3: one dropout is no gap
        temporal = sustained * _clip01(reg.softening / 0.25) * (0.85 + 0.15 * spreading)
        score = max(0.25 * p + 0.75 * temporal, 0.6 * still)
        feats.update(
            {
                "smoke_area": a,
                "softening": reg.softening,
                "spreading": spreading,
                "sustained": sustained,
                "temporal": temporal,
                "n_regions": float(reg.n_soft),
                "n_candidates": float(reg.n_candidates),
            }
        )
        return DetectorResult(_clip01(score), feats)

    @staticmethod
    def mask(m: FrameMaps, state: CameraState) -> np.ndarray:
        """(H, W) bool smoke candidates: changed against the background, low saturation (< 0.35) and not more
        saturated than the background there (smoke greys what is behind it, e.g. a plume over blue sky)."""
        if state.bg is None:
            return np.zeros(m.s.shape, bool)
        bg_s = state.bg_sat if state.bg_sat is not None else np.zeros_like(m.s)
        fg = state.bg_diff(m) > 0.05
        return fg & (m.v > 0.2) & (m.s < 0.35) & (m.s <= bg_s + 0.05)

    @staticmethod
    def regions(frame: Frame, state: CameraState) -> SmokeRegions:
        """Candidate regions that soften the background (cached per frame)."""
        cache = frame_cache(frame)
        got = cache.get("smoke_regions")
        if isinstance(got, SmokeRegions):
            return got
        m = FrameMaps.of(frame)
        cand = SmokeDetector.mask(m, state)
        empty = np.zeros(cand.shape, bool)
        reg = SmokeRegions(empty, 0.0, 0.0, 0, 0)
        if state.bg is not None and state.bg_grad is not None and int(cand.sum()) >= SMOKE_MIN_PX:
            cand8 = cv2.morphologyEx(cand.astype(np.uint8), cv2.MORPH_CLOSE, K3)
            n, labels, stats, _ = cv2.connectedComponentsWithStats(cand8, connectivity=8)
            if n > 1:
                # each region with a 2-pixel rim: a vehicle's or a person's outline lies on its rim
                rim = cv2.dilate(labels.astype(np.uint16), np.ones((5, 5), np.uint8)).astype(np.int64)
                lab = np.where(labels > 0, labels, rim).ravel()
                cnt = np.bincount(lab, minlength=n).astype(np.float64)
                e_now = np.bincount(lab, weights=m.grad.ravel(), minlength=n)
                e_bg = np.maximum(np.bincount(lab, weights=state.bg_grad.ravel(), minlength=n), SMOKE_GRAD_FLOOR * cnt)
                ratio = e_now / np.maximum(e_bg, 1e-6)
                d = state.bg_diff(m)
                dg = np.abs(cv2.Sobel(d, cv2.CV_32F, 1, 0, ksize=3)) + np.abs(cv2.Sobel(d, cv2.CV_32F, 0, 1, ksize=3))
                inside = labels.ravel()
                n_in = np.maximum(np.bincount(inside, minlength=n), 1)
                d_in = np.bincount(inside, weights=d.ravel(), minlength=n)
                # measured on the border band only (2-pixel rim + the region's own edge), so that a large region's
                # flat interior does not dilute its outline
                # (the frame's edge is not the region's border: erode as if the region went on beyond it)
                core = cv2.erode(cand8, K3, borderType=cv2.BORDER_REPLICATE).astype(bool).ravel()
                band = np.where(core, 0, lab)
                b_cnt = np.maximum(np.bincount(band, minlength=n), 1)
                sharp = (np.bincount(band, weights=dg.ravel(), minlength=n) / b_cnt) / np.maximum(d_in / n_in, 1e-3)
                gx, gy = m.grad.ravel().astype(np.float64), state.bg_grad.ravel().astype(np.float64)
                cn = np.maximum(cnt, 1.0)
                sx, sy = np.bincount(lab, weights=gx, minlength=n) / cn, np.bincount(lab, weights=gy, minlength=n) / cn
                cov = np.bincount(lab, weights=gx * gy, minlength=n) / cn - sx * sy
                vx = np.bincount(lab, weights=gx * gx, minlength=n) / cn - sx * sx
                vy = np.bincount(lab, weights=gy * gy, minlength=n) / cn - sy * sy
                corr = cov / np.sqrt(np.maximum(vx * vy, 1e-12))
                area = stats[:, cv2.CC_STAT_AREA]
                diffuse = (sharp < SMOKE_MAX_SHARPNESS) | (
                    (corr >= SMOKE_TRANSPARENT_CORR) & (sharp < SMOKE_TRANSPARENT_MAX_SHARPNESS) & (area >= 30)
                )
                bg_s = state.bg_sat if state.bg_sat is not None else m.s
                desat = np.bincount(inside, weights=(bg_s - m.s).ravel(), minlength=n) / n_in
                # nearly flat behind (night sky with a few lit windows): a lit veil may even add faint texture
                # hysteresis: a region overlapping last frame's smoke keeps its label on looser limits (a plume
                # billows; one frame's outline or colour wobble must not drop it)
                tracked = np.zeros(n, bool)
                if state.smoke_mask is not None and state.smoke_mask.shape == labels.shape:
                    prev = cv2.dilate(state.smoke_mask.astype(np.uint8), K3).ravel().astype(np.float64)
                    tracked = np.bincount(inside, weights=prev, minlength=n) / n_in >= 0.3
                relax = np.where(tracked, SMOKE_TRACKED_RELAX, 1.0)
                flat = (sy < SMOKE_FLAT_BG_GRAD) & (ratio < SMOKE_FLAT_MAX_RATIO * relax)
                veil = (
                    flat
                    & (sharp < SMOKE_FLAT_MAX_SHARPNESS * relax)
                    & (desat >= SMOKE_FLAT_DESATURATION / relax)
                    & (area >= 30)
                )
                diffuse |= tracked & (sharp < SMOKE_MAX_SHARPNESS * relax)
                # airlight: a veil adds its own light while it dims the contrast behind it, so brightness falls
                # less than contrast; a global dimming (dusk, exposure, a cloud's shadow) lowers both alike
                bg_gray = cv2.cvtColor(state.bg, cv2.COLOR_BGR2GRAY).ravel()
                b_now = np.bincount(inside, weights=m.gray.ravel(), minlength=n)
                b_bg = np.maximum(np.bincount(inside, weights=bg_gray, minlength=n), 1e-3)
                airlight = b_now / b_bg - ratio
                softened = (
                    (ratio < SMOKE_SOFT_RATIO * np.minimum(relax, 1.1)) & diffuse & (airlight >= SMOKE_MIN_AIRLIGHT)
                )
                keep = (softened | veil) & (area >= SMOKE_MIN_PX) & (area <= SMOKE_MAX_AREA * labels.size)
                keep[0] = False
                softness = np.where(softened, 1.0 - ratio, SMOKE_FLAT_SOFTENING)
                ids = np.nonzero(keep)[0]
                if len(ids):
                    lut = np.zeros(n, bool)
                    lut[ids] = True
                    mask = lut[labels] & cand
                    w = area[ids].astype(np.float64)
                    soft = float(np.sum(softness[ids] * w) / w.sum())
                    reg = SmokeRegions(mask, float(mask.mean()), soft, n - 1, len(ids))
                else:
                    reg = SmokeRegions(empty, 0.0, 0.0, n - 1, 0)
        cache["smoke_regions"] = reg
        return reg

    @staticmethod
    def smoke_pixels(frame: Frame, state: CameraState) -> float:
        """Fraction of soft smoke-region pixels (kept in the state's history to measure spreading)."""
        return SmokeDetector.regions(frame, state).area


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


#: a wide blob (width > this x height) that fills its box this solidly is a vehicle; a row of people is ragged
VEHICLE_ASPECT = 1.6
VEHICLE_FILL = 0.6
#: a merged blob of people has at least this share of the background's edge energy (people add edges)
CROWD_EDGE_RATIO = 1.5
#: height / width of a standing person (for where a person's pixels lie above its feet)
PERSON_ASPECT = 3.5
#: people are upright: a merged blob of people is textured by vertical edges (legs, torsos, the gaps between
#: people), a lane of vehicles by horizontal ones (roofs, windows, bumpers, shadows). A merged blob's weight as a
#: crowd rises from 0 to 1 as its ratio of vertical- to horizontal-edge energy (|gx| / |gy|) goes from the first
#: value to the second
CROWD_UPRIGHT = (0.8, 1.1)
#: ...or as the learned head's crowd probability goes from the first value to the second (the head sees the
#: people; it was trained with street and highway traffic as "normal")
CROWD_HEAD_P = (0.08, 0.2)
#: the foreground count is the median of its last this many frames (passing traffic merges into large blobs in one
#: frame and not the next; a gathering crowd stays)
CROWD_PERSIST = 3


def _ramp(x: np.ndarray | float, lo_hi: tuple[float, float]) -> np.ndarray:
    lo, hi = lo_hi
    return np.clip((np.asarray(x, np.float64) - lo) / (hi - lo), 0.0, 1.0)


@dataclass(frozen=True)
class BlobCount:
    """Persons read from the foreground: ``single`` in upright person-sized blobs (``n_single`` of them),
    ``merged`` by the density of merged blobs, each weighted by how crowd-like it is (``crowdlike``: the mean
    weight, density-weighted; NaN without merged blobs)."""

    single: float = 0.0
    merged: float = 0.0
    n_single: int = 0
    crowdlike: float = math.nan


class CrowdDetector:
    """Persons from the learned count head (stills) fused with a foreground blob counter: upright person-sized
    blobs count one each; merged blobs (people occluding each other) count by foreground density, each pixel
    weighted by 1 / the area of a person at its depth (ground-plane perspective from the config), when they look
    like people (vertical texture) or the learned head sees a crowd, and only while they persist over frames.
    Solid wide blobs are vehicles. Beyond the count range the head was trained on, the foreground count leads.
    Density and Fruin level where the walkable zone's area is calibrated."""

    name = "crowd"
    version = "crowd-v3"

    def __init__(self, config: CameraVisionConfig | None = None) -> None:
        self.config = config or CameraVisionConfig()
        self.walk = polygon_mask(self.config.walk_roi)
        w, h = WORK_SIZE
        self.person_px = self.config.person_area_frac * w * h
        self.person_px_row = self.config.person_area_frac * w * h * self._scale((np.arange(h) + 0.5) / h) ** 2
        # a person's pixels lie above its feet: a pixel at row r belongs to a person whose feet are about half a
        # person height lower
        height_px = np.sqrt(PERSON_ASPECT * self.person_px_row)
        feet = np.clip(np.arange(h) + 0.5 * height_px, 0, h - 1).astype(np.int64)
        self.row_weight = (1.0 / self.person_px_row[feet]).astype(np.float64)

    def _scale(self, y: np.ndarray) -> np.ndarray:
        """Linear size of a person with feet at row fraction y, relative to one at ``person_ref_y``."""
        ref, hz = self.config.person_ref_y, self.config.horizon_y
        if ref is None:
            return np.ones_like(y)
        return np.clip((y - hz) / (ref - hz), 0.15, None)

    def blob_persons(
        self,
        fg: np.ndarray,
        prev_fg: np.ndarray | None = None,
        grad: np.ndarray | None = None,
        bg_grad: np.ndarray | None = None,
    ) -> tuple[float, int]:
        """(H, W) bool foreground (and last frame's) -> (persons by blobs and density, person-like single blobs),
        every merged blob counted (see :meth:`blob_count`)."""
        bc = self.blob_count(fg, prev_fg, grad, bg_grad)
        return bc.single + bc.merged, bc.n_single

    def blob_count(
        self,
        fg: np.ndarray,
        prev_fg: np.ndarray | None = None,
        grad: np.ndarray | None = None,
        bg_grad: np.ndarray | None = None,
        grad_x: np.ndarray | None = None,
        head_agree: float = 1.0,
    ) -> BlobCount:
        """(H, W) bool foreground (and last frame's) -> :class:`BlobCount`.

        Merged blobs count by density over their *persistent* pixels only (foreground now and, within a pixel,
        in the previous frame): a standing crowd persists. Without ``prev_fg`` every pixel counts. With the edge
        energies of the frame and the background (``grad``, ``bg_grad``), a merged blob must add edges to count
        (heads, limbs, clothing): water, smoke and glare smooth the scene. With the frame's vertical-edge energy
        ``grad_x`` (|gx|; ``grad`` - ``grad_x`` = |gy|), each merged blob is weighted by the larger of its
        uprightness (:data:`CROWD_UPRIGHT`) and ``head_agree`` in [0, 1] (the learned head's agreement that
        there is a crowd): lanes of vehicles merge into large blobs too, textured by horizontal edges."""
        fgw = fg & self.walk
        # close (not open): thin limbs and a person's parts split by similar colours stay one blob; specks are
        # rejected by area below
        mask = cv2.morphologyEx(fgw.astype(np.uint8), cv2.MORPH_CLOSE, K3)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        if n <= 1:
            return BlobCount()
        lab = labels.ravel()
        weight = self.row_weight[:, None] * fgw  # density of the foreground itself, not of the closed gaps
        dens_all = np.bincount(lab, weights=weight.ravel(), minlength=n)
        if prev_fg is not None:
            weight = weight * cv2.dilate(prev_fg.astype(np.uint8), K3)
        dens = np.bincount(lab, weights=weight.ravel(), minlength=n)
        edgy = edgy_single = None
        if grad is not None and bg_grad is not None:
            e_now = np.bincount(lab, weights=grad.ravel(), minlength=n)
            e_bg = np.bincount(lab, weights=bg_grad.ravel(), minlength=n)
            edgy = e_now >= CROWD_EDGE_RATIO * e_bg
            edgy_single = e_now >= e_bg
        crowdlike = np.ones(n)
        if grad is not None and grad_x is not None:
            fw = fgw.ravel()
            ex = np.bincount(lab, weights=np.where(fw, grad_x.ravel(), 0.0), minlength=n)
            ey = np.bincount(lab, weights=np.where(fw, (grad - grad_x).ravel(), 0.0), minlength=n)
            crowdlike = np.maximum(_ramp(ex / np.maximum(ey, 1e-6), CROWD_UPRIGHT), _clip01(head_agree))
        single, merged, merged_raw, singles = 0.0, 0.0, 0.0, 0
        h = labels.shape[0]
        for i in range(1, n):
            y, bw, bh, area = (int(v) for v in stats[i, 1:5])
            expected = float(self.person_px_row[min(h - 1, y + bh - 1)])
            if area < max(0.4 * expected, 6.0):
                continue  # noise
            if bw > VEHICLE_ASPECT * bh and area >= VEHICLE_FILL * bw * bh:
                continue  # a solid wide blob: a vehicle
            if edgy_single is not None and not edgy_single[i]:
                continue  # removes edges: the ghost of something that left, a shadow, water
            if area <= 2.5 * expected and bw <= VEHICLE_ASPECT * bh:
                # one person, or a few side by side: counted by their perspective-weighted area
                single += max(1.0, float(dens_all[i]))
                singles += 1
            elif edgy is None or edgy[i]:
                d = self.config.crowd_occlusion * float(dens[i])
                merged += float(crowdlike[i]) * d
                merged_raw += d
        return BlobCount(single, merged, singles, merged / merged_raw if merged_raw > 0 else math.nan)

    def score(self, frame: Frame, state: CameraState) -> DetectorResult:
        m = FrameMaps.of(frame)
        head = head_outputs(frame)
        p = _nz(head["crowd"], 0.0)
        c = _nz(head["count"], 0.0)
        feats: dict[str, float] = {"head_p": p, "head_count": c}
        persons = c
        if state.warm:
            fg = state.foreground(m)
            agree = float(_ramp(p, CROWD_HEAD_P))
            bc = self.blob_count(fg & ~m.flame, state.prev_fg, m.grad, state.bg_grad, m.grad_x, agree)
            # the count must persist: the median over the last CROWD_PERSIST frames (a crowd's members move
            # between single and merged blobs from frame to frame, so the median is taken of their sum)
            now = bc.single + bc.merged
            past = [state.scratch.get(f"crowd_blob_{k}") for k in range(1, CROWD_PERSIST)]
            for k in range(CROWD_PERSIST - 1, 1, -1):
                if f"crowd_blob_{k - 1}" in state.scratch:
                    state.scratch[f"crowd_blob_{k}"] = state.scratch[f"crowd_blob_{k - 1}"]
            state.scratch["crowd_blob_1"] = now
            hist = [now, *(float(v) for v in past if v is not None)]
            pf = float(np.median(hist)) if len(hist) == CROWD_PERSIST else min(now, bc.single)
            feats.update(
                {
                    "blob_persons": pf,
                    "blob_singles": float(bc.n_single),
                    "blob_single_persons": bc.single,
                    "blob_merged_persons": bc.merged,
                    "blob_now": now,
                    "blob_crowdlike": bc.crowdlike,
                    "head_agree": agree,
                }
            )
            # the head's count is a weak prior (out-of-source it does not beat a constant, see the README): it
            # tempers small foreground counts (a few blobs may be vehicles) with half the weight, fading out as the
            # foreground count approaches the largest count the head was trained on; beyond it the foreground leads
            top = max(1.0, people_count_range())
            w_head = 0.5 * _clip01((top - pf) / (0.5 * top))
            persons = w_head * c + (1.0 - w_head) * pf
        density = None
        if self.config.walk_area_m2:
            density = persons / self.config.walk_area_m2
            score = max(_clip01(density / 1.44), 0.5 * p)
        else:
            score = max(p, _clip01(persons / self.config.crowd_capacity))
        feats["persons"] = persons
        feats["density"] = float("nan") if density is None else density
        return DetectorResult(_clip01(score), feats)
