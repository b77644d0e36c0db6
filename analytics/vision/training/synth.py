"""Synthetic street-level floods and wet-road hard negatives made from dry street images (seeded, numpy/OpenCV).

The shared image set has no street-level flood photo (its only flood source is aerial and grayscale). These
functions turn a dry road scene (a traffic-camera or street photo) into

* :func:`street_flood`: murky brown/grey water filling the lower part of the scene up to a waterline (tilted
  and slightly wavy), at a random depth: shallow water lets the road show through, deep water is opaque. The
  water carries the scene above it mirrored about the waterline (blurred, darkened, broken by ripples), a
  brighter sheen towards the far edge and a ragged foam line. Vehicles and people that straddle the waterline
  stay dry above it: they look partly submerged;
* :func:`wet_road`: the hard negative: the same road after rain, darker and glossier, with a few small
  puddles mirroring what is above them (and sometimes rain streaks), but no water body.

They are training data only (``python -m analytics.vision.training.loso --synthetic``; not in the shipped
recipe, see ``analytics/vision/models/README.md``): a figure measured on them says how well a head separates
Pantau's own renderings, never how it does on real floods (``loso`` reports them apart from the real sources).
"""

from __future__ import annotations

import cv2
import numpy as np

from analytics.vision.training.augment import rain

#: murky water colours (BGR): brown, grey-brown, olive, grey
WATER_COLOURS = ((70, 100, 125), (85, 105, 120), (75, 110, 115), (105, 110, 115), (60, 85, 110))
#: synthetic kinds and their labels: street floods, and the hard negatives wet road and warm light (sunset sky,
#: sodium street lamps, brake and signal lights, neon: flame-coloured things that are not fire)
KINDS = {"flood": "flood", "wet": "normal", "warm": "normal"}


def _waterline(h: int, w: int, level: float, rng: np.random.Generator) -> np.ndarray:
    """(w,) float row of the waterline per column: ``level`` (fraction of the height from the top), tilted and
    gently wavy."""
    x = np.linspace(-1.0, 1.0, w)
    tilt = rng.uniform(-0.06, 0.06) * x
    wave = rng.uniform(0.0, 0.012) * np.sin(x * rng.uniform(3, 9) + rng.uniform(0, 6.3))
    return np.clip((level + tilt + wave) * h, 0, h - 1)


def _ripple_offsets(h: int, w: int, rng: np.random.Generator, amp: float) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal and vertical displacement fields (pixels) of small ripples, stronger towards the camera."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    near = (ys / max(1, h - 1)) ** 1.5
    f1, f2 = rng.uniform(0.15, 0.45), rng.uniform(0.02, 0.08)
    ph = rng.uniform(0, 6.3, 2)
    dx = amp * near * (np.sin(ys * f1 + ph[0]) + 0.5 * np.sin(xs * f2 + ys * 0.7 * f1 + ph[1]))
    dy = 0.4 * amp * near * np.sin(xs * f2 * 1.7 + ph[1])
    noise = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 2.0) * amp * 0.8
    return dx + noise, dy


def street_flood(img: np.ndarray, rng: np.random.Generator, depth: float | None = None) -> np.ndarray:
    """A dry street scene (H, W, 3) uint8 BGR -> the same scene flooded; ``depth`` in [0, 1] (None: random) sets
    how high the waterline rises (from 0.8 to 0.4 of the height from the top) and how opaque the water is."""
    h, w = img.shape[:2]
    d = float(rng.uniform(0.0, 1.0) if depth is None else depth)
    level = 0.8 - 0.4 * d + rng.uniform(-0.05, 0.05)
    line = _waterline(h, w, level, rng)
    ys = np.arange(h, dtype=np.float32)[:, None]
    below = ys >= line[None, :]
    f = img.astype(np.float32)
    light = float(np.clip(np.median(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)) / 128.0, 0.25, 1.3))
    colour = np.array(WATER_COLOURS[int(rng.integers(len(WATER_COLOURS)))], np.float32) * light
    colour *= rng.uniform(0.85, 1.15, 3).astype(np.float32)
    # the scene mirrored about the waterline, displaced by ripples and blurred
    dx, dy = _ripple_offsets(h, w, rng, rng.uniform(1.5, 6.0))
    xs = np.arange(w, dtype=np.float32)[None, :]
    src_y = np.clip(2.0 * line[None, :] - ys + dy, 0, h - 1).astype(np.float32)
    src_x = np.clip(xs + dx, 0, w - 1).astype(np.float32)
    mirror = cv2.remap(img, src_x, src_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT).astype(np.float32)
    mirror = np.asarray(cv2.GaussianBlur(mirror, (0, 0), rng.uniform(0.8, 2.5)), np.float32)
    # fresnel-like: reflection strongest at grazing angles (far, near the waterline), weaker close to the camera
    dist = np.clip((ys - line[None, :]) / max(1.0, h - float(line.min())), 0, 1)
    refl = (rng.uniform(0.25, 0.55) * (1.0 - 0.6 * dist))[..., None]
    opacity = rng.uniform(0.55, 0.75) + 0.25 * d
    water = colour[None, None, :] * (1 - refl) + mirror * refl
    # turbid texture and a few bright ripple crests
    tex = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), rng.uniform(1.0, 3.0))
    water += (tex * rng.uniform(4, 10))[..., None]
    crest = (np.sin(ys * rng.uniform(0.3, 0.8) + dx * 0.8) > 0.93) & (rng.random((h, w)) < 0.5)
    water[crest] += rng.uniform(20, 45) * light
    out = f.copy()
    a = np.where(below, opacity, 0.0)[..., None]
    # soften the waterline over a couple of pixels
    a = cv2.GaussianBlur(a[..., 0].astype(np.float32), (0, 0), 1.2)[..., None]
    out = out * (1 - a) + water * a
    # foam / debris line along the waterline
    foam = np.abs(ys - line[None, :]) < rng.uniform(1.0, 2.5)
    foam &= rng.random((h, w)) < 0.6
    out[foam] = out[foam] * 0.5 + 0.5 * np.array([150, 160, 165], np.float32) * light
    return np.clip(out, 0, 255).astype(np.uint8)


def wet_road(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Hard negative: the road after rain (darker, glossier, a few small puddles mirroring the scene; sometimes
    rain streaks), no standing water body. (H, W, 3) uint8 BGR -> same shape."""
    h, w = img.shape[:2]
    f = img.astype(np.float32)
    ys = np.arange(h, dtype=np.float32)[:, None]
    ground = np.clip((ys / h - 0.45) / 0.3, 0, 1)[..., None]  # the lower part of the frame is mostly road
    dark = 1.0 - rng.uniform(0.15, 0.35) * ground
    out = f * dark
    # gloss: a faint vertical streak of the bright things above (street lights, sky) smeared downwards
    smear = cv2.blur(f, (3, max(3, h // 8)))
    out += ground * rng.uniform(0.05, 0.15) * np.maximum(smear - 120, 0)
    for _ in range(int(rng.integers(1, 5))):
        cx, cy = int(rng.integers(0, w)), int(rng.uniform(0.6, 0.95) * h)
        ax, ay = int(rng.uniform(0.03, 0.12) * w), int(rng.uniform(0.01, 0.03) * h) + 1
        mask = np.zeros((h, w), np.uint8)
        cv2.ellipse(mask, (cx, cy), (ax, ay), float(rng.uniform(-10, 10)), 0, 360, 1, -1)
        if not mask.any():
            continue
        src_y = np.clip(2.0 * (cy - ay) - ys, 0, h - 1).astype(np.float32) * np.ones((1, w), np.float32)
        src_x = np.tile(np.arange(w, dtype=np.float32), (h, 1))
        mir = cv2.remap(img, src_x, src_y, cv2.INTER_LINEAR).astype(np.float32)
        m = mask.astype(bool)
        out[m] = 0.5 * out[m] + 0.5 * cv2.GaussianBlur(mir, (0, 0), 1.5)[m]
    res = np.clip(out, 0, 255).astype(np.uint8)
    if rng.random() < 0.4:
        res = rain(res, rng)
    return res


def warm_light(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Hard negative for fire: a sunset / dusk sky graded orange-red over the top of the scene and a warm cast,
    and/or glowing orange, red and yellow lights (street lamps, brake-light pairs, signs) with bloom."""
    h, w = img.shape[:2]
    f = img.astype(np.float32)
    ys = np.arange(h, dtype=np.float32)[:, None, None] / h
    sunset = bool(rng.random() < 0.6)
    if sunset:  # sunset: orange to red gradient at the top, fading down; the rest warmer and darker
        top = np.array([rng.uniform(20, 70), rng.uniform(90, 160), rng.uniform(200, 255)], np.float32)
        reach = rng.uniform(0.3, 0.6)
        a = np.clip(1.0 - ys / reach, 0, 1) * rng.uniform(0.45, 0.8)
        f = f * (1 - a) + top[None, None, :] * a
        f *= np.array([rng.uniform(0.6, 0.85), rng.uniform(0.8, 0.95), 1.0], np.float32)
        f *= rng.uniform(0.6, 1.0)
    if rng.random() < 0.7 or not sunset:  # lights with bloom (at least one of the two)
        glow = np.zeros((h, w, 3), np.float32)
        palette = ((40, 150, 255), (30, 60, 240), (60, 200, 255), (20, 110, 255), (90, 40, 230))
        for _ in range(int(rng.integers(3, 15))):
            c = np.array(palette[int(rng.integers(len(palette)))], np.float32)
            x, y = int(rng.integers(0, w)), int(rng.uniform(0.1, 0.9) * h)
            r = max(1, int(rng.uniform(0.004, 0.02) * w))
            pair = rng.random() < 0.4  # brake lights come in pairs
            for dx in (0, int(rng.uniform(0.03, 0.08) * w)) if pair else (0,):
                cv2.circle(glow, (x + dx, y), r, c.tolist(), -1)
        bloom = cv2.GaussianBlur(glow, (0, 0), rng.uniform(3, 9))
        f = f * rng.uniform(0.5, 1.0) + glow * 0.9 + bloom * rng.uniform(1.0, 2.5)
    return np.clip(f, 0, 255).astype(np.uint8)


def content_box(img: np.ndarray, floor: float = 12.0) -> tuple[int, int, int, int]:
    """(y0, y1, x0, x1) of the image without black letterbox/pillarbox bars (rows/columns darker than
    ``floor`` on average at the edges)."""
    g = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float32)
    rows, cols = np.nonzero(g.mean(axis=1) > floor)[0], np.nonzero(g.mean(axis=0) > floor)[0]
    if len(rows) < 16 or len(cols) < 16:
        return 0, img.shape[0], 0, img.shape[1]
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def synthesise(kind: str, img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The image of a synthetic row of ``kind`` (:data:`KINDS`) made from its dry parent image (letterbox bars
    stay as they are: the water fills the picture, not the bars)."""
    if kind not in KINDS:
        raise ValueError(f"unknown synthetic kind {kind!r}")
    y0, y1, x0, x1 = content_box(img)
    out = img.copy()
    sub = np.ascontiguousarray(img[y0:y1, x0:x1])
    make = {"flood": street_flood, "wet": wet_road, "warm": warm_light}[kind]
    out[y0:y1, x0:x1] = make(sub, rng)
    return out
