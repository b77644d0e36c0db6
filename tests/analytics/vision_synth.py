"""Synthetic frames for the vision tests (no external data)."""

from __future__ import annotations

import cv2
import numpy as np

W, H = 320, 180


def street(seed: int = 0) -> np.ndarray:
    """(180, 320, 3) uint8 BGR: coloured buildings on top, textured grey asphalt with lane marks below."""
    rng = np.random.default_rng(seed)
    img = np.zeros((H, W, 3), np.uint8)
    x = 0
    while x < W:
        w = int(rng.integers(30, 70))
        col = tuple(int(c) for c in rng.integers(60, 230, 3))
        cv2.rectangle(img, (x, 0), (x + w, int(H * 0.55)), col, -1)
        for wy in range(10, int(H * 0.5), 18):
            cv2.rectangle(img, (x + 6, wy), (x + 14, wy + 8), (40, 40, 40), -1)
        x += w
    road = rng.normal(95, 14, (H - int(H * 0.55), W)).clip(0, 255).astype(np.uint8)
    img[int(H * 0.55) :] = np.repeat(road[..., None], 3, axis=2)
    for lx in range(0, W, 40):
        cv2.rectangle(img, (lx, int(H * 0.76)), (lx + 20, int(H * 0.78)), (235, 235, 235), -1)
    return img


def noisy(img: np.ndarray, rng: np.random.Generator, sigma: float = 2.0) -> np.ndarray:
    return (img.astype(np.float32) + rng.normal(0, sigma, img.shape)).clip(0, 255).astype(np.uint8)


def flame_blob(img: np.ndarray, rng: np.random.Generator, centre: tuple[int, int], size: int) -> np.ndarray:
    """Draw an irregular, randomly jittered orange-yellow flame (a new shape every call)."""
    out = img.copy()
    cx, cy = centre
    for _ in range(12):
        dx, dy = rng.integers(-size // 2, size // 2 + 1, 2)
        r = int(rng.integers(max(2, size // 4), size // 2 + 2))
        col = (int(rng.integers(0, 60)), int(rng.integers(90, 220)), int(rng.integers(230, 256)))
        cv2.ellipse(out, (int(cx + dx), int(cy + dy - r // 2)), (r // 2 + 1, r), 0, 0, 360, col, -1)
    return out
