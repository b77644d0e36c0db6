"""CCTV-like augmentation for training the heads (seeded, numpy/OpenCV only).

Each function maps an (H, W, 3) uint8 BGR image (and, for geometric ones, YOLO boxes as an (N, 5) array of
``cls cx cy w h`` in [0, 1]) to a new image the way street cameras degrade it: grayscale / IR night, low light
with sensor noise, haze, rain streaks, motion blur, heavy JPEG, a timestamp overlay, wide-angle (barrel)
distortion, and the scene shrunk into a larger frame (small objects far away). :func:`cctv_view` chains a random
subset. Nothing here is learned; the heads are trained on backbone features of these views.
"""

from __future__ import annotations

import cv2
import numpy as np

Boxes = np.ndarray  # (N, 5) float: cls, cx, cy, w, h (normalised)


def grayscale_ir(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Night IR / monochrome camera: grey, contrast-stretched, slightly bloomed."""
    g: np.ndarray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float32)
    if rng.random() < 0.5:  # IR: vegetation and skin bright, sky dark -> approximate by gamma on grey
        g = 255.0 * (g / 255.0) ** rng.uniform(0.6, 0.9)
    g = cv2.GaussianBlur(g, (0, 0), rng.uniform(0.3, 1.0))
    return cv2.cvtColor(np.clip(g, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)


def low_light(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Dark exposure with gain noise and a warm sodium-lamp cast."""
    f = img.astype(np.float32) * rng.uniform(0.2, 0.5)
    f *= np.array([rng.uniform(0.7, 0.9), 1.0, rng.uniform(1.0, 1.25)], np.float32)  # B, G, R
    f += rng.normal(0.0, rng.uniform(3, 9), f.shape[:2])[..., None]
    return np.clip(f, 0, 255).astype(np.uint8)


def haze(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Atmospheric haze / fog: blend towards a bright airlight, stronger at the top of the frame."""
    h = img.shape[0]
    t = np.linspace(rng.uniform(0.35, 0.6), rng.uniform(0.7, 0.95), h, dtype=np.float32)[:, None, None]
    air = rng.uniform(170, 235)
    return np.clip(img.astype(np.float32) * t + air * (1 - t), 0, 255).astype(np.uint8)


def rain(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rain streaks: short bright slanted lines, motion-blurred, over a slightly darker, lower-contrast scene."""
    h, w = img.shape[:2]
    layer: np.ndarray = np.zeros((h, w), np.float32)
    n = int(rng.uniform(0.002, 0.006) * h * w / 10)
    xs, ys = rng.integers(0, w, n), rng.integers(0, h, n)
    length = max(4, int(h * rng.uniform(0.03, 0.08)))
    dx = int(length * rng.uniform(-0.3, 0.3))
    for x, y in zip(xs, ys, strict=True):
        cv2.line(layer, (int(x), int(y)), (int(x) + dx, int(y) + length), float(rng.uniform(0.4, 1.0)), 1)
    layer = cv2.GaussianBlur(layer, (3, 3), 0)
    f = img.astype(np.float32) * 0.85 + 25 + 120 * layer[..., None]
    return np.clip(f, 0, 255).astype(np.uint8)


def motion_blur(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    k = int(rng.integers(5, 13))
    kern: np.ndarray = np.zeros((k, k), np.float32)
    kern[k // 2, :] = 1.0 / k
    rot = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), float(rng.uniform(0, 180)), 1.0)
    kern = cv2.warpAffine(kern, rot, (k, k))
    kern = kern * (1.0 / max(1e-6, float(kern.sum())))
    return cv2.filter2D(img, -1, kern)


def heavy_jpeg(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Low bitrate: downscale, JPEG at quality 8-30, upscale back."""
    h, w = img.shape[:2]
    s = rng.uniform(0.35, 0.7)
    small = cv2.resize(img, (max(8, int(w * s)), max(8, int(h * s))), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(8, 30))])
    dec = cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else None
    dec = small if dec is None else dec
    return cv2.resize(dec, (w, h), interpolation=cv2.INTER_LINEAR)


def timestamp(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An on-screen date/time and camera name, white or yellow, in a corner."""
    out = img.copy()
    h, w = out.shape[:2]
    text = f"2026-{rng.integers(1, 13):02d}-{rng.integers(1, 29):02d} {rng.integers(0, 24):02d}:{rng.integers(0, 60):02d}:{rng.integers(0, 60):02d}"
    scale = max(0.3, w / 900.0)
    colour = (255, 255, 255) if rng.random() < 0.6 else (0, 255, 255)
    y = int(h * (0.06 if rng.random() < 0.5 else 0.95))
    x = int(w * (0.02 if rng.random() < 0.5 else 0.5))
    cv2.putText(out, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(out, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv2.LINE_AA)
    if rng.random() < 0.5:
        cv2.putText(
            out,
            f"CAM {rng.integers(1, 999):03d}",
            (x, max(12, y - int(30 * scale))),
            cv2.FONT_HERSHEY_SIMPLEX,
            scale,
            colour,
            1,
            cv2.LINE_AA,
        )
    return out


def barrel(img: np.ndarray, boxes: Boxes, rng: np.random.Generator) -> tuple[np.ndarray, Boxes]:
    """Wide-angle barrel distortion (k1 > 0 pulls the corners in); box centres move with the pixels."""
    h, w = img.shape[:2]
    k1 = rng.uniform(0.1, 0.35)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    nx, ny = (xs - w / 2) / (w / 2), (ys - h / 2) / (h / 2)
    r2 = nx * nx + ny * ny
    f = 1 + k1 * r2
    mapx, mapy = nx * f * (w / 2) + w / 2, ny * f * (h / 2) + h / 2
    out = cv2.remap(img, mapx, mapy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    if len(boxes):
        # inverse of the map for centres: solve r_u = r_d (1 + k1 r_d^2) by fixed-point iteration
        b = boxes.copy()
        ux, uy = b[:, 1] * 2 - 1, b[:, 2] * 2 - 1
        dx, dy = ux.copy(), uy.copy()
        for _ in range(8):
            s = 1 + k1 * (dx * dx + dy * dy)
            dx, dy = ux / s, uy / s
        s = 1 + k1 * (dx * dx + dy * dy)
        b[:, 1], b[:, 2] = (dx + 1) / 2, (dy + 1) / 2
        b[:, 3], b[:, 4] = b[:, 3] / s, b[:, 4] / s
        boxes = b
    return out, boxes


def far_away(img: np.ndarray, boxes: Boxes, rng: np.random.Generator) -> tuple[np.ndarray, Boxes]:
    """Shrink the scene into a corner of a same-size frame filled by its own blurred, darkened copy: objects
    become small, as seen by a camera far away; boxes scale and move with it."""
    h, w = img.shape[:2]
    s = rng.uniform(0.35, 0.6)
    sw, sh = max(8, int(w * s)), max(8, int(h * s))
    canvas = cv2.GaussianBlur(img, (0, 0), 9) // 2 + 40
    x0, y0 = int(rng.integers(0, w - sw + 1)), int(rng.integers(0, h - sh + 1))
    canvas[y0 : y0 + sh, x0 : x0 + sw] = cv2.resize(img, (sw, sh), interpolation=cv2.INTER_AREA)
    if len(boxes):
        b = boxes.copy()
        b[:, 1] = (x0 + b[:, 1] * sw) / w
        b[:, 2] = (y0 + b[:, 2] * sh) / h
        b[:, 3] *= sw / w
        b[:, 4] *= sh / h
        boxes = b
    return canvas, boxes


PHOTOMETRIC = (grayscale_ir, low_light, haze, rain, motion_blur, heavy_jpeg, timestamp)
GEOMETRIC = (barrel, far_away)


def cctv_view(img: np.ndarray, boxes: Boxes, rng: np.random.Generator) -> tuple[np.ndarray, Boxes]:
    """One random CCTV-like view: optionally a geometric change, then 1-3 photometric degradations, and a
    random horizontal flip."""
    out, b = img, boxes
    if rng.random() < 0.5:
        fn = GEOMETRIC[int(rng.integers(len(GEOMETRIC)))]
        out, b = fn(out, b, rng)
    for i in rng.choice(len(PHOTOMETRIC), size=int(rng.integers(1, 4)), replace=False):
        out = PHOTOMETRIC[int(i)](out, rng)
    if rng.random() < 0.5:
        out = np.ascontiguousarray(out[:, ::-1])
        if len(b):
            b = b.copy()
            b[:, 1] = 1 - b[:, 1]
    return out, b
