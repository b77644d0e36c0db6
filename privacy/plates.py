"""Licence-plate candidates by classical image processing (no plate model ships offline).

Method: a plate is a small, high-contrast, horizontally elongated block of vertical strokes (characters).
On the grayscale frame we take the horizontal Sobel gradient, threshold it (Otsu), close it with a wide
rectangle so the strokes of one plate merge, and keep connected regions whose box has a plate-like aspect
ratio (1.5-9: a whole plate or its text line), a plausible size relative to the frame, a high fill ratio and strong contrast. When vehicle
boxes are given, only candidates inside (expanded) vehicle boxes are kept.

Limits (documented, deliberate): it is a recall-oriented heuristic, not a recogniser. It over-blurs other
text-like blocks (shop signs, road markings with text, timestamps burnt into the video) — acceptable for
privacy. It misses plates that are tiny (< ~24 px wide), strongly skewed (> ~25 deg), motion-blurred, in
glare or at night without contrast, and plates occluded by other vehicles. Indonesian plates (black on white
since 2022 and the older white on black) are both handled because only gradient magnitude is used.
"""

from __future__ import annotations

import cv2
import numpy as np


def detect_plates(
    bgr: np.ndarray,
    vehicle_boxes: np.ndarray | None = None,
    *,
    min_aspect: float = 1.5,
    max_aspect: float = 9.0,
    min_width_px: int = 24,
    max_width_share: float = 0.25,
    min_fill: float = 0.3,
    min_contrast: float = 40.0,
) -> np.ndarray:
    """(H, W, 3) uint8 BGR -> (N, 4) int32 candidate plate boxes [x1, y1, x2, y2].

    ``vehicle_boxes``: optional (M, 4) [x1, y1, x2, y2]; candidates must lie inside one of them.
    """
    w = bgr.shape[1]
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    gx = np.abs(cv2.Sobel(gray, cv2.CV_16S, 1, 0, ksize=3)).astype(np.float32)
    gx = np.clip(gx * (255.0 / max(float(gx.max()), 1.0)), 0, 255).astype(np.uint8)
    _, bw = cv2.threshold(gx, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    kw = max(13, w // 48)
    closed = cv2.morphologyEx(bw, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (kw, 5)))
    closed = cv2.morphologyEx(closed, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)))
    n, _labels, st, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
    if n <= 1:
        return np.empty((0, 4), dtype=np.int32)
    x, y, bw_, bh, area = st[1:, 0], st[1:, 1], st[1:, 2], st[1:, 3], st[1:, 4]
    aspect = bw_ / np.maximum(bh, 1)
    fill = area / np.maximum(bw_ * bh, 1)
    ok = (
        (aspect >= min_aspect)
        & (aspect <= max_aspect)
        & (bw_ >= min_width_px)
        & (bw_ <= max_width_share * w)
        & (bh >= 8)
        & (fill >= min_fill)
    )
    boxes = []
    for i in np.nonzero(ok)[0]:
        x1, y1, x2, y2 = int(x[i]), int(y[i]), int(x[i] + bw_[i]), int(y[i] + bh[i])
        patch = gray[y1:y2, x1:x2]
        if patch.size == 0 or float(np.percentile(patch, 95) - np.percentile(patch, 5)) < min_contrast:
            continue
        boxes.append((x1, y1, x2, y2))
    out = np.asarray(boxes, dtype=np.int32).reshape(-1, 4)
    if vehicle_boxes is not None and out.shape[0]:
        vb = np.asarray(vehicle_boxes, dtype=np.float32).reshape(-1, 4)
        if vb.shape[0] == 0:
            return np.empty((0, 4), dtype=np.int32)
        pad = 0.1 * np.stack([vb[:, 2] - vb[:, 0], vb[:, 3] - vb[:, 1]] * 2, axis=1)
        grown = vb + np.array([-1, -1, 1, 1], dtype=np.float32) * pad
        cx = (out[:, 0] + out[:, 2])[:, None] / 2.0
        cy = (out[:, 1] + out[:, 3])[:, None] / 2.0
        inside = (
            (cx >= grown[None, :, 0])
            & (cx <= grown[None, :, 2])
            & (cy >= grown[None, :, 1])
            & (cy <= grown[None, :, 3])
        )
        out = out[inside.any(axis=1)]
    return out
