"""Irreversible region blurring: pixelate, then Gaussian-blur each (slightly enlarged) box."""

from __future__ import annotations

import cv2
import numpy as np

from privacy.faces import detect_faces
from privacy.plates import detect_plates


def blur_boxes(bgr: np.ndarray, boxes: np.ndarray, *, grow: float = 0.5, cells: int = 3) -> np.ndarray:
    """Return a copy of (H, W, 3) uint8 ``bgr`` with each (N, >=4) box [x1, y1, x2, y2, ...] destroyed.

    Each box is enlarged by ``grow`` (share of its size), reduced to ``cells`` x ``cells`` average colours,
    then smoothed back to size, so neither detail nor structure of the region survives (a face keeps no
    eyes/nose/mouth layout for a detector to find).
    """
    out = bgr.copy()
    h, w = out.shape[:2]
    arr = np.asarray(boxes, dtype=np.float32)
    if arr.size == 0:
        return out
    for b in arr.reshape(arr.shape[0], -1):
        x1, y1, x2, y2 = (float(v) for v in b[:4])
        gw, gh = (x2 - x1) * grow / 2, (y2 - y1) * grow / 2
        xa, ya = max(0, int(x1 - gw)), max(0, int(y1 - gh))
        xb, yb = min(w, int(np.ceil(x2 + gw))), min(h, int(np.ceil(y2 + gh)))
        if xb - xa < 2 or yb - ya < 2:
            continue
        roi = out[ya:yb, xa:xb]
        rh, rw = roi.shape[:2]
        small = cv2.resize(roi, (min(cells, rw), min(cells, rh)), interpolation=cv2.INTER_AREA)
        pix = cv2.resize(small, (rw, rh), interpolation=cv2.INTER_LINEAR)
        out[ya:yb, xa:xb] = cv2.GaussianBlur(pix, (0, 0), max(1.0, max(rh, rw) / 3.0))
    return out


def blur_image(bgr: np.ndarray, *, face_threshold: float = 0.35, plates: bool = True, passes: int = 2) -> np.ndarray:
    """(H, W, 3) uint8 BGR -> copy with faces (CenterFace, low threshold for recall) and plate candidates blurred.

    After blurring, the detector runs again (up to ``passes`` times in all) and anything it still finds at
    ``face_threshold`` is blurred once more, so the output holds no face the detector can see.
    """
    boxes = [detect_faces(bgr, face_threshold)[:, :4]]
    if plates:
        boxes.append(detect_plates(bgr).astype(np.float32))
    allb = np.concatenate(boxes, axis=0)
    out = blur_boxes(bgr, allb) if allb.shape[0] else bgr.copy()
    for _ in range(passes - 1):
        if not allb.shape[0]:
            break
        allb = detect_faces(out, face_threshold)[:, :4]
        if allb.shape[0]:
            out = blur_boxes(out, allb)
    return out
