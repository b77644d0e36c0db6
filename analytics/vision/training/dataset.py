"""The labelled image set as training rows, and backbone features of original + CCTV-augmented views.

Rows come from the folder's ``MANIFEST.csv`` (``file,label[,count,source,boxes_file]``). The *source* of a row is
its ``source`` column, else the tag before the first ``_`` of the file name (``fire/fsy_x.jpg`` -> ``fsy``): one
tag per public dataset, the unit of leave-one-source-out validation. YOLO box files give per-class object counts
where a source labels that class (:data:`BOX_CLASSES`); elsewhere the count of that class is unknown, never 0.

``extract`` caches features in an ``.npz`` (outside the repository: it is derived from the images).
"""

from __future__ import annotations

import csv
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from analytics.vision import backbone
from analytics.vision.head import input_size
from analytics.vision.training.augment import cctv_view
from analytics.vision.training.synth import KINDS as SYNTH_KINDS
from analytics.vision.training.synth import synthesise

log = logging.getLogger(__name__)

HAZARDS = ("fire", "smoke", "flood", "crowd")
#: pooled features the scene heads use: "mean" (1280, the shipped recipe) or "mean+max" (2560)
POOLING = "mean"
#: object classes counted by the road-user head
COUNT_CLASSES = ("person", "car", "motorcycle", "bus_truck")
#: per source: YOLO class id -> counted class (None: a labelled class that is not counted). A source missing
#: here labels no boxes; a counted class a source does not list is unknown for its images.
BOX_CLASSES: dict[str, dict[int, str | None]] = {
    "cap": {0: "person"},
    "hwy": {0: "bus_truck", 1: "car", 2: "motorcycle", 3: "person", 4: "bus_truck"},
    "atl": {0: "motorcycle", 1: "bus_truck", 2: "car", 3: "bus_truck"},
    "nds": {0: None, 1: "person", 2: None},
}


@dataclass
class Row:
    file: str
    labels: tuple[str, ...]
    source: str
    count: float | None
    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 5), np.float32))
    known: tuple[bool, ...] = (False,) * len(COUNT_CLASSES)
    #: synthetic row: the kind (:data:`analytics.vision.training.synth.KINDS`) made from ``file``'s image
    synth: str = ""


#: dry street sources whose images become synthetic street floods and wet-road hard negatives
SYNTH_PARENTS = ("hwy", "atl", "intel")
#: a synthetic row's source is ``<parent><SYNTH_SEP><kind>``; it is held out together with its parent
SYNTH_SEP = "~"


def group_of(source: str) -> str:
    """The leave-one-source-out unit of a source: a synthetic source goes with the real source it was made from."""
    return source.split(SYNTH_SEP, 1)[0]


def is_synthetic(source: str) -> bool:
    return SYNTH_SEP in source


def with_synthetic(rows: list[Row]) -> list[Row]:
    """``rows`` plus, for every normal image of :data:`SYNTH_PARENTS`, one synthetic row of each kind in
    :data:`analytics.vision.training.synth.KINDS` (a street flood, labelled flood; wet-road and warm-light hard
    negatives, labelled normal); none carries object counts."""
    out = list(rows)
    for kind, label in SYNTH_KINDS.items():  # kind by kind: a new kind appends, earlier rows keep their index
        for r in rows:
            if r.source in SYNTH_PARENTS and r.labels == ("normal",) and not r.synth:
                out.append(Row(r.file, (label,), f"{r.source}{SYNTH_SEP}{kind}", None, synth=kind))
    return out


def source_of(row: dict[str, str]) -> str:
    if row.get("source"):
        return row["source"]
    name = Path(row["file"]).name
    return name.split("_", 1)[0] if "_" in name else "all"


def load_rows(root: Path, manifest: Path | None = None, synthetic: bool = False) -> list[Row]:
    """The manifest's rows (with :func:`with_synthetic`'s rows added when ``synthetic``)."""
    out = []
    with open(manifest or root / "MANIFEST.csv", newline="") as fh:
        for r in csv.DictReader(fh):
            labels = tuple(x.strip() for x in (r.get("label") or "").split(";") if x.strip())
            src = source_of(r)
            cnt = float(r["count"]) if (r.get("count") or "").strip() else None
            boxes = np.zeros((0, 5), np.float32)
            bf = (r.get("boxes_file") or "").strip()
            if bf and (root / bf).is_file():
                boxes = read_yolo(root / bf)
            cmap = BOX_CLASSES.get(src, {})
            known = tuple(c in cmap.values() for c in COUNT_CLASSES) if bf else (False,) * len(COUNT_CLASSES)
            out.append(Row(r["file"], labels, src, cnt, boxes, known))
    return with_synthetic(out) if synthetic else out


def read_yolo(path: Path) -> np.ndarray:
    """YOLO label file -> (N, 5) cls, cx, cy, w, h; polygon lines (cls x1 y1 x2 y2 ...) become their bounding box."""
    out = []
    for line in path.read_text().splitlines():
        v = [float(x) for x in line.split()]
        if len(v) == 5:
            out.append(v)
        elif len(v) >= 7 and len(v) % 2 == 1:
            xs, ys = v[1::2], v[2::2]
            x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
            out.append([v[0], (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0])
    return np.asarray(out, np.float32).reshape(-1, 5)


def cell_counts(boxes: np.ndarray, src: str, gw: int, gh: int) -> np.ndarray:
    """(N, 5) YOLO boxes -> (gh * gw, len(COUNT_CLASSES)) objects whose centre lies in each grid cell."""
    out = np.zeros((gh, gw, len(COUNT_CLASSES)), np.float32)
    cmap = BOX_CLASSES.get(src, {})
    for cls, cx, cy, _w, _h in boxes:
        name = cmap.get(int(cls))
        if name is None:
            continue
        gx, gy = min(gw - 1, max(0, int(cx * gw))), min(gh - 1, max(0, int(cy * gh)))
        out[gy, gx, COUNT_CLASSES.index(name)] += 1
    return out.reshape(gh * gw, -1)


def extract(
    root: Path,
    rows: list[Row],
    variant: str = "lite0",
    views: int = 3,
    seed: int = 20261204,
    square: int | None = None,
    start: int = 0,
) -> dict[str, np.ndarray]:
    """Features of every row's original (view 0) and ``views`` CCTV-augmented views.

    Returns arrays: ``row`` (V,) row index, ``view`` (V,), ``pooled`` (V, 1280) float32 (grid mean; with :data:`POOLING` "mean+max" (V, 2560)), and for rows with boxes (views 0 and 1 only)
    ``cell_row`` (C,) view index of each grid cell, ``cell_feat`` (C, 1280) float16, ``cell_count``
    (C, len(COUNT_CLASSES)). ``square``: resize to a square of that side (the old recipe) instead of
    :func:`input_size`. ``start``: extract rows from this index on (the result's ``row`` still indexes ``rows``).
    Synthetic rows draw their image and views from their own seeded generator, so their features do not depend
    on which rows were extracted before them."""
    rng = np.random.default_rng(seed)
    idx: list[int] = []
    vid: list[int] = []
    pooled: list[np.ndarray] = []
    cell_row: list[np.ndarray] = []
    cell_feat: list[np.ndarray] = []
    cell_cnt: list[np.ndarray] = []
    t0 = time.perf_counter()
    for i, r in enumerate(rows):
        if i < start:
            continue
        img = cv2.imread(str(root / r.file), cv2.IMREAD_COLOR)
        if img is None:
            log.warning("unreadable %s", r.file)
            continue
        # decode at reduced size first: the backbone never sees more than ~40k pixels
        h, w = img.shape[:2]
        s = min(1.0, 512.0 / max(h, w))
        if s < 1.0:
            img = cv2.resize(img, (int(w * s), int(h * s)), interpolation=cv2.INTER_AREA)
        view_rng = rng
        if r.synth:
            img = synthesise(r.synth, img, np.random.default_rng([seed, i]))
            view_rng = np.random.default_rng([seed, i, 1])
        for v in range(views + 1):
            im, bx = (img, r.boxes) if v == 0 else cctv_view(img, r.boxes, view_rng)
            size = (square, square) if square else input_size(im.shape[1], im.shape[0])
            f, grid = backbone.features(backbone.preprocess(im, size)[None], variant)
            n_view = len(idx)
            idx.append(i)
            vid.append(v)
            pooled.append(f[0] if POOLING == "mean+max" else f[0][: backbone.FEATURE_DIM])
            if (len(r.boxes) or any(r.known)) and v <= 1:
                gh, gw = grid.shape[2], grid.shape[3]
                cell_feat.append(grid[0].reshape(grid.shape[1], -1).T.astype(np.float16))
                cell_cnt.append(cell_counts(bx, r.source, gw, gh))
                cell_row.append(np.full(gh * gw, n_view, np.int32))
        if i % 200 == 0:
            log.info("%s: %d/%d images, %.0f s", variant, i, len(rows), time.perf_counter() - t0)
    return {
        "row": np.asarray(idx, np.int32),
        "view": np.asarray(vid, np.int32),
        "pooled": np.asarray(pooled, np.float32),
        "cell_row": np.concatenate(cell_row) if cell_row else np.zeros(0, np.int32),
        "cell_feat": np.concatenate(cell_feat) if cell_feat else np.zeros((0, backbone.FEATURE_DIM), np.float16),
        "cell_count": np.concatenate(cell_cnt) if cell_cnt else np.zeros((0, len(COUNT_CLASSES)), np.float32),
    }


def cached_features(
    root: Path, rows: list[Row], cache: Path, base: Path | None = None, **kw: object
) -> dict[str, np.ndarray]:
    """:func:`extract`, cached in ``cache`` (recomputed when the row count differs). With ``base`` (the cache of
    the real rows alone) and synthetic rows appended after the real ones, only the synthetic rows are extracted
    and joined to the real rows' features (the same features a full extraction gives)."""
    if cache.is_file():
        d = dict(np.load(cache))
        if int(d.get("n_rows", -1)) == len(rows):
            return d
    n_real = next((i for i, r in enumerate(rows) if r.synth), len(rows))
    if base is not None and 0 < n_real < len(rows) and not any(r.synth for r in rows[:n_real]):
        d = join_features(
            cached_features(root, rows[:n_real], base, None, **kw),
            extract(root, rows, start=n_real, **kw),  # type: ignore[arg-type]
        )
    else:
        d = extract(root, rows, **kw)  # type: ignore[arg-type]
    d["n_rows"] = np.asarray(len(rows))
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **d)  # type: ignore[arg-type]
    return d


def join_features(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Features of two extractions over disjoint rows, as one (``b``'s cell rows shifted past ``a``'s views)."""
    keys = ("row", "view", "pooled", "cell_row", "cell_feat", "cell_count")
    out = {k: np.concatenate([a[k], b[k] + (len(a["row"]) if k == "cell_row" else 0)]) for k in keys}
    out["cell_row"] = out["cell_row"].astype(np.int32)
    return out
