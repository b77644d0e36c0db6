"""Camera health: classify every sample, record transitions, count uptime per window.

Statuses (``HEALTH_STATUSES``): ``ok``, ``offline`` (no frame: refused, timeout, HTTP error, stream ended),
``frozen`` (the same image over time), ``black``, ``overexposed``, ``tampered`` (lens covered, sudden scene
change, camera moved: judged against a slowly adapting reference of the scene) and ``decode_error``.

All image checks run on a small grayscale copy (``HealthConfig.work_size``, default 96x54) with numpy, so a
sample costs well under a millisecond after the resize. One ``CameraHealth`` per camera keeps the temporal
state (previous frame, reference, counters); it is not thread-safe, and a worker calls it from one thread
at a time per camera.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

log = logging.getLogger(__name__)

HEALTH_STATUSES: tuple[str, ...] = ("ok", "offline", "frozen", "black", "overexposed", "tampered", "decode_error")
#: Stream error reasons (ingest.cameras.readers.REASONS) mapped to a health status.
ERROR_STATUS: dict[str, str] = {
    "offline": "offline",
    "timeout": "offline",
    "http_error": "offline",
    "eof": "offline",
    "decode_error": "decode_error",
}


@dataclass(frozen=True)
class HealthConfig:
    """Thresholds; luminance values are on the 0-255 scale of the grayscale work image."""

    work_size: tuple[int, int] = (96, 54)  # (width, height)
    black_mean: float = 16.0  # mean below this ...
    black_std: float = 12.0  # ... and little structure -> black
    over_mean: float = 235.0  # mean above this ...
    over_saturated: float = 0.85  # ... or this share of pixels >= 250 -> overexposed
    frozen_eps: float = 0.15  # mean |frame - previous| below this counts as an identical frame
    frozen_min_samples: int = 3  # this many identical samples in a row -> frozen
    frozen_min_s: float = 0.0  # ... spanning at least this many seconds
    ref_alpha: float = 0.05  # reference update rate per ok sample (slow: absorbs dusk, clouds)
    ref_warmup: int = 3  # ok samples before tamper checks start
    cover_std: float = 5.0  # almost uniform picture -> lens covered ...
    cover_edge_ratio: float = 0.15  # ... or edge energy below this share of the reference's
    grid: tuple[int, int] = (6, 8)  # (rows, cols) of blocks compared with the reference
    block_ncc: float = 0.5  # a textured block whose correlation with the reference is below this changed ...
    block_min_std: float = 4.0  # ... (blocks flat in the reference, like sky, are not judged)
    scene_changed_share: float = 0.6  # this share of textured blocks changed vs the reference ...
    sudden_share: float = 0.4  # ... and this share vs the previous sample -> sudden scene change
    half_changed_share: float = 0.5  # ... and at least this share in both the upper and the lower half
    moved_shift: float = 0.04  # phase-correlation shift above this share of the width -> camera moved
    moved_response: float = 0.35  # ... with at least this phase-correlation peak
    rebase_after: int = 30  # after this many tampered samples of a stable new view, adopt it as reference


@dataclass(frozen=True)
class HealthSample:
    """The verdict for one sample. ``metrics`` holds the numbers behind it (for features/debugging)."""

    status: str
    reason: str = ""
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Transition:
    at: float  # epoch seconds (UTC)
    from_status: str | None
    to_status: str
    reason: str


def to_gray_small(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(H, W, 3) uint8 BGR (or (H, W) gray) -> (h, w) float32 gray at ``size`` = (w, h), INTER_AREA."""
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA).astype(np.float32)


def edge_energy(gray: np.ndarray) -> float:
    """Mean absolute gradient of (h, w) float32 gray -> float (structure in the picture)."""
    gx = np.abs(np.diff(gray, axis=1)).mean()
    gy = np.abs(np.diff(gray, axis=0)).mean()
    return float(gx + gy)


def ncc(a: np.ndarray, b: np.ndarray) -> float:
    """Zero-mean normalised cross-correlation of two (h, w) float32 images -> [-1, 1] (1 = same scene).

    Insensitive to global brightness/contrast changes (lighting), sensitive to the scene's layout.
    """
    a0 = a - a.mean()
    b0 = b - b.mean()
    den = float(np.sqrt((a0 * a0).sum() * (b0 * b0).sum()))
    if den < 1e-6:
        return 0.0
    return float((a0 * b0).sum() / den)


def block_ncc(a: np.ndarray, b: np.ndarray, grid: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Per-block zero-mean NCC of two (h, w) float32 images cut into ``grid`` = (rows, cols) blocks.

    Returns (ncc (rows*cols,) float32 in [-1, 1], std of each block of ``b`` (rows*cols,) float32); a block
    with no variance in either image gets ncc 0.
    """
    gr, gc = grid
    bh, bw = a.shape[0] // gr, a.shape[1] // gc
    A = a[: gr * bh, : gc * bw].reshape(gr, bh, gc, bw).transpose(0, 2, 1, 3).reshape(gr * gc, bh * bw)
    B = b[: gr * bh, : gc * bw].reshape(gr, bh, gc, bw).transpose(0, 2, 1, 3).reshape(gr * gc, bh * bw)
    A0 = A - A.mean(axis=1, keepdims=True)
    B0 = B - B.mean(axis=1, keepdims=True)
    den = np.sqrt((A0 * A0).sum(axis=1) * (B0 * B0).sum(axis=1))
    num = (A0 * B0).sum(axis=1)
    out = np.where(den > 1e-6, num / np.maximum(den, 1e-6), 0.0).astype(np.float32)
    return out, B.std(axis=1).astype(np.float32)


def image_metrics(gray: np.ndarray) -> dict[str, float]:
    """Exposure metrics of a (h, w) float32 gray image: mean, std, saturated share, edge energy."""
    return {
        "mean": float(gray.mean()),
        "std": float(gray.std()),
        "saturated": float((gray >= 250).mean()),
        "edges": edge_energy(gray),
    }


class CameraHealth:
    """Per-camera health state machine.

    ``observe_frame(frame, ts)`` classifies a decoded (H, W, 3) uint8 BGR frame; ``observe_error(reason, ts)``
    classifies a failed read (``reason`` from ``StreamError.reason``). Every status change is appended to
    ``transitions`` (the first sample is a transition from ``None``).
    """

    def __init__(self, config: HealthConfig | None = None) -> None:
        self.config = config or HealthConfig()
        self.status: str | None = None
        self.transitions: list[Transition] = []
        self._prev: np.ndarray | None = None
        self._same_count = 0
        self._same_since: float | None = None
        self._ref: np.ndarray | None = None
        self._ref_edges = 0.0
        self._ref_n = 0
        self._tamper_count = 0
        self._new_view: np.ndarray | None = None

    # -- public -----------------------------------------------------------------------
    def observe_error(self, reason: str, ts: float) -> HealthSample:
        status = ERROR_STATUS.get(reason, "offline")
        self._prev = None
        self._same_count = 0
        self._same_since = None
        return self._record(HealthSample(status, reason), ts)

    def observe_frame(self, frame: np.ndarray, ts: float) -> HealthSample:
        gray = to_gray_small(frame, self.config.work_size)
        return self._record(self._classify(gray, ts), ts)

    def pop_transitions(self) -> list[Transition]:
        out, self.transitions = self.transitions, []
        return out

    # -- internals --------------------------------------------------------------------
    def _record(self, sample: HealthSample, ts: float) -> HealthSample:
        if sample.status != self.status:
            self.transitions.append(Transition(ts, self.status, sample.status, sample.reason))
            self.status = sample.status
        return sample

    def _classify(self, gray: np.ndarray, ts: float) -> HealthSample:
        cfg = self.config
        m = image_metrics(gray)
        # frozen bookkeeping first: it needs every frame, whatever its status
        prev = self._prev
        if prev is not None:
            diff = float(np.abs(gray - prev).mean())
            m["diff_prev"] = diff
            if diff < cfg.frozen_eps:
                self._same_count += 1
                if self._same_since is None:
                    self._same_since = ts
            else:
                self._same_count = 0
                self._same_since = None
        self._prev = gray

        if m["mean"] < cfg.black_mean and m["std"] < cfg.black_std:
            return HealthSample("black", "no light or no video", m)
        if m["mean"] > cfg.over_mean or m["saturated"] > cfg.over_saturated:
            return HealthSample("overexposed", "saturated picture", m)
        if (
            self._same_count + 1 >= cfg.frozen_min_samples
            and self._same_since is not None
            and ts - self._same_since >= cfg.frozen_min_s
        ):
            return HealthSample("frozen", f"{self._same_count + 1} identical samples", m)

        tamper = self._tamper(gray, prev, m)
        if tamper:
            self._tamper_count += 1
            self._maybe_rebase(gray)
            return HealthSample("tampered", tamper, m)
        self._tamper_count = 0
        self._new_view = None
        self._update_ref(gray, m["edges"])
        return HealthSample("ok", "", m)

    def _tamper(self, gray: np.ndarray, prev: np.ndarray | None, m: dict[str, float]) -> str:
        """Why the view is tampered with ('' if it is not).

        A scene change must be SUDDEN to count: the view differs from the slow reference AND from the previous
        sample (or there is no previous sample, e.g. after a reconnect). A gradual change such as water rising
        over a road, dusk or a smoke plume building up moves the reference along and stays ``ok`` (it is
        what the hazard detectors are for). Once tampered, the state holds while the view differs from the
        reference (until ``rebase_after`` samples of a stable new view)."""
        cfg = self.config
        if m["std"] < cfg.cover_std:
            return "lens covered"
        if self._ref is None or self._ref_n < cfg.ref_warmup:
            return ""
        if self._ref_edges > 1.0 and m["edges"] < cfg.cover_edge_ratio * self._ref_edges:
            return "lens covered"
        corr, ref_std = block_ncc(gray, self._ref, cfg.grid)
        textured = ref_std >= cfg.block_min_std
        if not textured.any():
            return ""
        low = corr < cfg.block_ncc
        changed = float(low[textured].mean())
        m["changed_share"] = changed
        if changed < cfg.scene_changed_share:
            return ""
        # the whole view must change: a flood over the road or a crowd on the pavement changes only the lower
        # part of a street view, a moved or swapped camera changes the upper part (buildings, skyline) as well
        half = (cfg.grid[0] // 2) * cfg.grid[1]
        for part in (slice(0, half), slice(half, None)):
            tex = textured[part]
            if int(tex.sum()) >= 2 and float(low[part][tex].mean()) < cfg.half_changed_share:
                m["changed_share_half"] = float(low[part][tex].mean())
                return ""
        if self.status != "tampered" and prev is not None:
            c_prev, prev_std = block_ncc(gray, prev, cfg.grid)
            tex = prev_std >= cfg.block_min_std
            sudden = float((c_prev[tex] < cfg.block_ncc).mean()) if tex.any() else 0.0
            m["changed_share_prev"] = sudden
            if sudden < cfg.sudden_share:
                return ""
        win = cv2.createHanningWindow((gray.shape[1], gray.shape[0]), cv2.CV_32F)
        (dx, dy), resp = cv2.phaseCorrelate(self._ref.copy(), gray.copy(), win)  # it may window its inputs in place
        shift = float(np.hypot(dx, dy)) / gray.shape[1]
        m["shift"] = shift
        m["shift_response"] = float(resp)
        if shift > cfg.moved_shift and resp > cfg.moved_response:
            return "camera moved"
        return "sudden scene change"

    def _update_ref(self, gray: np.ndarray, edges: float) -> None:
        if self._ref is None:
            self._ref = gray.copy()
            self._ref_edges = edges
        else:
            a = self.config.ref_alpha if self._ref_n >= self.config.ref_warmup else 0.5
            self._ref += a * (gray - self._ref)
            self._ref_edges += a * (edges - self._ref_edges)
        self._ref_n += 1

    def _maybe_rebase(self, gray: np.ndarray) -> None:
        """A camera that stays pointed at a new, stable view adopts it (a re-aimed camera is not tampered forever)."""
        if self._new_view is None or ncc(gray, self._new_view) < 0.8:
            self._new_view = gray.copy()
            self._tamper_count = 1
            return
        if self._tamper_count >= self.config.rebase_after and float(gray.std()) >= self.config.cover_std:
            log.info("health: adopting a new reference view after %d tampered samples", self._tamper_count)
            self._ref = gray.copy()
            self._ref_edges = edge_energy(gray)
            self._ref_n = self.config.ref_warmup
            self._tamper_count = 0
            self._new_view = None


def uptime_by_window(ts: np.ndarray, statuses: Sequence[str] | np.ndarray, window_s: float) -> dict[float, float]:
    """Share of ``ok`` samples per time window.

    Args:
        ts: (N,) float64 epoch seconds.
        statuses: (N,) health statuses.
        window_s: window length in seconds (windows start at multiples of it).
    Returns:
        {window_start (epoch s): uptime in [0, 1]} for every window with at least one sample.
    """
    t = np.asarray(ts, dtype=np.float64)
    if t.size == 0:
        return {}
    ok = np.asarray(statuses) == "ok"
    start = np.floor(t / window_s) * window_s
    keys, inv = np.unique(start, return_inverse=True)
    total = np.bincount(inv, minlength=keys.size)
    good = np.bincount(inv, weights=ok.astype(np.float64), minlength=keys.size)
    return {float(k): float(g / n) for k, g, n in zip(keys, good, total, strict=True)}
