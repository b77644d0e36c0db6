"""Numpy-vectorised colour, texture and motion features.

All functions take small frames (the detectors work at 160x90 or 96x96) and return arrays or floats;
shapes are given as (H, W) / (H, W, 3). Float images are in [0, 1].
"""

from __future__ import annotations

import cv2
import numpy as np

DESCRIPTOR_VERSION = "desc-v1"


def to_float(bgr: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 BGR -> (H, W, 3) float32 in [0, 1]."""
    return bgr.astype(np.float32) * (1.0 / 255.0)


def hsv_planes(bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(H, W, 3) uint8 BGR -> hue in [0, 1) (0=red, 1/6=yellow, 1/3=green, 2/3=blue), saturation, value; each (H, W) float32."""
    hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)
    h = hsv[..., 0].astype(np.float32) * (1.0 / 180.0)
    s = hsv[..., 1].astype(np.float32) * (1.0 / 255.0)
    v = hsv[..., 2].astype(np.float32) * (1.0 / 255.0)
    return h, s, v


_THIRD = np.full((1, 3), 1.0 / 3.0, np.float32)
_ONES = np.ones((1, 3), np.float32)


def chan_mean(x: np.ndarray) -> np.ndarray:
    """(H, W, 3) float32 -> (H, W) float32 mean over channels (cv2, much faster than ``mean(axis=2)``)."""
    return cv2.transform(x, _THIRD)


def chan_sum(x: np.ndarray) -> np.ndarray:
    """(H, W, 3) float32 -> (H, W) float32 sum over channels."""
    return cv2.transform(x, _ONES)


def abs_diff_mean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean absolute channel difference of two (H, W, 3) float32 images -> (H, W) float32."""
    return chan_mean(cv2.absdiff(a, b))


def flame_mask(f: np.ndarray) -> np.ndarray:
    """Flame-colour pixels: orange to yellow-white, bright, red >= green > blue.

    Pure red lamps (green/red < 0.3) and white/grey lights (low red-blue spread) are excluded.
    (H, W, 3) float BGR -> (H, W) bool.
    """
    b, g, r = f[..., 0], f[..., 1], f[..., 2]
    ratio = g / np.maximum(r, 1e-6)
    return (r > 0.55) & (r >= g) & (g > b) & (ratio >= 0.3) & ((r - b) > 0.2)


def skin_mask(bgr: np.ndarray) -> np.ndarray:
    """Skin-tone pixels by the classic YCrCb box. (H, W, 3) uint8 BGR -> (H, W) bool."""
    ycc = cv2.cvtColor(bgr, cv2.COLOR_BGR2YCrCb)
    cr, cb = ycc[..., 1], ycc[..., 2]
    return (cr >= 135) & (cr <= 175) & (cb >= 85) & (cb <= 130) & (ycc[..., 0] > 40)


def gradient_magnitude(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(H, W) float gray -> (magnitude, |gx|, |gy|), each (H, W) float32."""
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
    ax, ay = np.abs(gx), np.abs(gy)
    return ax + ay, ax, ay


def dark_channel(bgr: np.ndarray, k: int = 7) -> np.ndarray:
    """He et al. dark channel: min over colour and a k x k patch. (H, W, 3) uint8 -> (H, W) float32 in [0, 1] (high = haze/smoke)."""
    mn = cv2.min(cv2.min(bgr[..., 0], bgr[..., 1]), bgr[..., 2])
    return cv2.erode(mn, np.ones((k, k), np.uint8)).astype(np.float32) * (1.0 / 255.0)


def lbp_popcount_hist(gray: np.ndarray) -> np.ndarray:
    """8-neighbour local binary pattern, histogram of set bits (0..8) plus uniform-pattern share.

    (H, W) float gray -> (10,) float32 summing the 9 bins to 1.
    """
    c = gray[1:-1, 1:-1]
    h, w = gray.shape
    offs = [(-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1)]
    bits = np.stack([gray[1 + dy : h - 1 + dy, 1 + dx : w - 1 + dx] >= c + 0.02 for dy, dx in offs], axis=0)
    pop = bits.sum(axis=0)
    hist = np.bincount(pop.ravel(), minlength=9).astype(np.float32)
    hist /= max(1.0, float(hist.sum()))
    transitions = (bits != np.roll(bits, 1, axis=0)).sum(axis=0)
    uniform = float((transitions <= 2).mean())
    return np.concatenate([hist, np.array([uniform], np.float32)])


def block_std(gray: np.ndarray, block: int = 8) -> np.ndarray:
    """Standard deviation per non-overlapping block. (H, W) float -> (H//block, W//block) float32."""
    h, w = gray.shape
    hh, ww = h // block * block, w // block * block
    g = gray[:hh, :ww].reshape(hh // block, block, ww // block, block)
    return g.std(axis=(1, 3)).astype(np.float32)


def grid_means(x: np.ndarray, n: int = 3) -> np.ndarray:
    """Means of an (H, W) map over an n x n grid -> (n*n,) float32."""
    return cv2.resize(x.astype(np.float32), (n, n), interpolation=cv2.INTER_AREA).ravel()


def colourfulness(f: np.ndarray) -> float:
    """Hasler & Suesstrunk colourfulness of an (H, W, 3) float BGR image (0 for grayscale)."""
    b, g, r = f[..., 0], f[..., 1], f[..., 2]
    rg = r - g
    yb = 0.5 * (r + g) - b
    return float(np.sqrt(rg.std() ** 2 + yb.std() ** 2) + 0.3 * np.sqrt(rg.mean() ** 2 + yb.mean() ** 2))


DESCRIPTOR_NAMES: list[str] = (
    [f"hue{i}" for i in range(12)]
    + [f"sat{i}" for i in range(6)]
    + [f"val{i}" for i in range(6)]
    + ["flame", "flame_bright", "flame_top", "flame_bottom", "flame_max_cell"]
    + ["colourful", "s_mean", "s_std", "v_mean", "v_std", "greyness"]
    + ["dark_mean", "dark_std"]
    + ["grad_mean", "grad_std", "edge_lo", "edge_mid", "edge_hi"]
    + [f"grad_g{i}" for i in range(9)]
    + [f"lbp{i}" for i in range(10)]
    + [f"v_g{i}" for i in range(9)]
    + [f"s_g{i}" for i in range(9)]
    + ["grey_bright", "blueish", "brownish", "lap_log", "smooth_blocks", "hv_ratio", "skin", "skin_max_cell"]
)
DESCRIPTOR_DIM = len(DESCRIPTOR_NAMES)


def image_descriptor(bgr: np.ndarray) -> np.ndarray:
    """Global colour/texture descriptor used by the learned head.

    (96, 96, 3) uint8 BGR (any size works; the head is trained on 96x96) -> (DESCRIPTOR_DIM,) float32.
    """
    f = to_float(bgr)
    h, s, v = hsv_planes(bgr)
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.float32) * (1.0 / 255.0)
    n = float(h.size)
    colourful = (s > 0.2) & (v > 0.2)
    hue_hist = np.bincount(np.minimum((h[colourful] * 12).astype(np.int64), 11), minlength=12) / n
    sat_hist = np.bincount(np.minimum((s * 6).astype(np.int64), 5).ravel(), minlength=6) / n
    val_hist = np.bincount(np.minimum((v * 6).astype(np.int64), 5).ravel(), minlength=6) / n
    fm = flame_mask(f)
    half = fm.shape[0] // 2
    flame_cells = grid_means(fm.astype(np.float32), 4)
    flame = [
        fm.mean(),
        (fm & (v > 0.85)).mean(),
        fm[:half].mean(),
        fm[half:].mean(),
        flame_cells.max(),
    ]
    b, g, r = f[..., 0], f[..., 1], f[..., 2]
    greyness = float((np.abs(r - g) + np.abs(g - b)).mean())
    stats = [colourfulness(f), s.mean(), s.std(), v.mean(), v.std(), greyness]
    dc = dark_channel(bgr)
    mag, ax, ay = gradient_magnitude(gray)
    grad = [mag.mean(), mag.std(), (mag > 0.1).mean(), (mag > 0.3).mean(), (mag > 0.6).mean()]
    lap = cv2.Laplacian(gray, cv2.CV_32F)
    bs = block_std(gray)
    sk = skin_mask(bgr)
    misc = [
        ((s < 0.15) & (v > 0.4) & (v < 0.9)).mean(),
        ((h > 0.5) & (h < 0.7) & (s > 0.15)).mean(),
        ((h > 0.03) & (h < 0.12) & (s > 0.2) & (v < 0.7)).mean(),
        np.log1p(float(lap.var()) * 1000.0),
        (bs < 0.02).mean(),
        float(ax.sum() / max(1e-6, float(ay.sum()))),
        sk.mean(),
        grid_means(sk.astype(np.float32), 4).max(),
    ]
    out = np.concatenate(
        [
            hue_hist,
            sat_hist,
            val_hist,
            np.asarray(flame, np.float32),
            np.asarray(stats, np.float32),
            np.asarray([dc.mean(), dc.std()], np.float32),
            np.asarray(grad, np.float32),
            grid_means(mag, 3),
            lbp_popcount_hist(gray),
            grid_means(v, 3),
            grid_means(s, 3),
            np.asarray(misc, np.float32),
        ]
    ).astype(np.float32)
    return out
