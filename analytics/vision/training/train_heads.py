"""Train the learned vision heads and export them to ONNX.

Usage:
    python -m analytics.vision.training.train_heads --data /path/to/vision --out analytics/vision/models

Reads ``MANIFEST.csv`` (file,label,count,...) under --data. Holds out a stratified, seeded test split per
(label, source) that training never sees and records it in ``<out>/split.csv``. Features are the hand-crafted
colour/texture descriptor (:func:`analytics.vision.features.image_descriptor`) of augmented 96x96 views;
heads are small numpy MLPs (deterministic full-batch Adam), exported with the dependency-free ONNX writer:

* ``scene_head.onnx``: descriptor -> softmax over (fire, smoke, flood, crowd, normal)
* ``count_head.onnx``: descriptor -> log1p(person count)

Bounded: about a minute on one CPU core.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import time
from pathlib import Path

import cv2
import numpy as np

from analytics.vision.features import DESCRIPTOR_DIM, DESCRIPTOR_VERSION, image_descriptor
from analytics.vision.frame import HEAD_SIZE
from analytics.vision.onnx_build import mlp_graph

log = logging.getLogger("pantau.train")

CLASSES = ["fire", "smoke", "flood", "crowd", "normal"]
SEED = 20261127


def source_of(file: str) -> str:
    """Source tag = filename prefix before the first underscore (fsy, cap, nds, atl, hwy, intel)."""
    return Path(file).name.split("_", 1)[0]


def stratified_split(rows: list[dict], test_frac: float, seed: int) -> dict[str, str]:
    """Seeded split per (label, source) group -> {file: 'train'|'test'}."""
    rng = np.random.default_rng(seed)
    groups: dict[tuple[str, str], list[str]] = {}
    for r in rows:
        groups.setdefault((r["label"], source_of(r["file"])), []).append(r["file"])
    out: dict[str, str] = {}
    for key in sorted(groups):
        files = sorted(groups[key])
        idx = rng.permutation(len(files))
        n_test = round(len(files) * test_frac)
        for k, i in enumerate(idx):
            out[files[i]] = "test" if k < n_test else "train"
    return out


def augment(img: np.ndarray, label: str, rng: np.random.Generator, n: int, size: int = HEAD_SIZE) -> list[np.ndarray]:
    """Original plus n-1 random views (crop 70-100 %, flip, brightness/contrast, grayscale for
    non-fire/non-flood classes so that 'grayscale' alone never means flood). Returns size x size BGR views."""
    views = [cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)]
    h, w = img.shape[:2]
    for k in range(n - 1):
        scale = rng.uniform(0.7, 1.0)
        ch, cw = max(8, int(h * scale)), max(8, int(w * rng.uniform(0.7, 1.0)))
        y0, x0 = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
        v = img[y0 : y0 + ch, x0 : x0 + cw]
        if rng.random() < 0.5:
            v = v[:, ::-1]
        v = cv2.resize(np.ascontiguousarray(v), (size, size), interpolation=cv2.INTER_AREA)
        a, b = rng.uniform(0.75, 1.25), rng.uniform(-25, 25)
        v = np.clip(v.astype(np.float32) * a + b, 0, 255).astype(np.uint8)
        if k == 0 and label in ("smoke", "normal", "crowd"):
            v = cv2.cvtColor(cv2.cvtColor(v, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
        views.append(v)
    return views


class Mlp:
    """One-hidden-layer MLP trained with full-batch Adam (deterministic for a seed)."""

    def __init__(self, d_in: int, d_hidden: int, d_out: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.w1 = rng.normal(0, np.sqrt(2.0 / d_in), (d_in, d_hidden)).astype(np.float64)
        self.b1 = np.zeros(d_hidden)
        self.w2 = rng.normal(0, np.sqrt(1.0 / d_hidden), (d_hidden, d_out)).astype(np.float64)
        self.b2 = np.zeros(d_out)

    def params(self) -> list[np.ndarray]:
        return [self.w1, self.b1, self.w2, self.b2]

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h = np.maximum(x @ self.w1 + self.b1, 0.0)
        return h, h @ self.w2 + self.b2

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        kind: str,
        sample_w: np.ndarray,
        epochs: int = 600,
        lr: float = 0.01,
        wd: float = 1e-3,
        dropout_seed: int = 0,
    ) -> None:
        """kind='softmax' (y int labels) or 'mse' (y float targets, shape (N,))."""
        rng = np.random.default_rng(dropout_seed)
        m = [np.zeros_like(p) for p in self.params()]
        v = [np.zeros_like(p) for p in self.params()]
        sw = sample_w / sample_w.sum()
        for t in range(1, epochs + 1):
            # input noise as regulariser
            xn = x + rng.normal(0, 0.1, x.shape)
            h, z = self.forward(xn)
            if kind == "softmax":
                z = z - z.max(axis=1, keepdims=True)
                p = np.exp(z)
                p /= p.sum(axis=1, keepdims=True)
                dz = p.copy()
                dz[np.arange(len(y)), y] -= 1.0
            else:
                dz = (z[:, 0] - y)[:, None] * 2.0
            dz *= sw[:, None]
            gw2 = h.T @ dz + wd * self.w2
            gb2 = dz.sum(axis=0)
            dh = (dz @ self.w2.T) * (h > 0)
            gw1 = xn.T @ dh + wd * self.w1
            gb1 = dh.sum(axis=0)
            for i, (p_, g_) in enumerate(zip(self.params(), [gw1, gb1, gw2, gb2], strict=True)):
                m[i] = 0.9 * m[i] + 0.1 * g_
                v[i] = 0.999 * v[i] + 0.001 * g_**2
                mh = m[i] / (1 - 0.9**t)
                vh = v[i] / (1 - 0.999**t)
                p_ -= lr * mh / (np.sqrt(vh) + 1e-8)


def load_rows(data: Path) -> list[dict]:
    with open(data / "MANIFEST.csv", newline="") as fh:
        return [r for r in csv.DictReader(fh) if r["label"] in CLASSES]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "models")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--test-frac", type=float, default=0.25)
    ap.add_argument("--views", type=int, default=5)
    ap.add_argument("--hidden", type=int, default=48)
    ap.add_argument("--epochs", type=int, default=800)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    t0 = time.time()
    cv2.setRNGSeed(args.seed)
    rows = load_rows(args.data)
    split = stratified_split(rows, args.test_frac, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "split.csv", "w", newline="") as fh:
        wr = csv.writer(fh)
        wr.writerow(["file", "label", "count", "source", "split"])
        for r in sorted(rows, key=lambda r: r["file"]):
            wr.writerow([r["file"], r["label"], r["count"], source_of(r["file"]), split[r["file"]]])
    rng = np.random.default_rng(args.seed)
    xs, ys, cs = [], [], []
    for r in sorted(rows, key=lambda r: r["file"]):
        if split[r["file"]] != "train":
            continue
        img = cv2.imread(str(args.data / r["file"]), cv2.IMREAD_COLOR)
        if img is None:
            log.warning("unreadable %s", r["file"])
            continue
        cnt = float(r["count"]) if r["count"] not in ("", None) else np.nan
        for v in augment(img, r["label"], rng, args.views):
            xs.append(image_descriptor(v))
            ys.append(CLASSES.index(r["label"]))
            cs.append(cnt)
    x = np.asarray(xs, np.float64)
    y = np.asarray(ys, np.int64)
    c = np.asarray(cs, np.float64)
    log.info("descriptors %s in %.1fs", x.shape, time.time() - t0)
    mean = x.mean(axis=0)
    std = x.std(axis=0) + 1e-6
    xz = (x - mean) / std
    freq = np.bincount(y, minlength=len(CLASSES)).astype(np.float64)
    sample_w = (1.0 / freq)[y]
    scene = Mlp(DESCRIPTOR_DIM, args.hidden, len(CLASSES), args.seed)
    scene.fit(xz, y, "softmax", sample_w, epochs=args.epochs)
    _, z = scene.forward(xz)
    log.info("scene train acc %.3f (%.1fs)", float((z.argmax(1) == y).mean()), time.time() - t0)
    mlp_graph(
        [
            (scene.w1.astype(np.float32), scene.b1.astype(np.float32)),
            (scene.w2.astype(np.float32), scene.b2.astype(np.float32)),
        ],
        mean.astype(np.float32),
        std.astype(np.float32),
        "Softmax",
        out_name="probs",
    ).save(str(args.out / "scene_head.onnx"))
    has = np.isfinite(c)
    counter = Mlp(DESCRIPTOR_DIM, 16, 1, args.seed + 1)
    counter.fit(xz[has], np.log1p(c[has]), "mse", np.ones(int(has.sum())), epochs=args.epochs, lr=0.005, wd=1e-2)
    counter.b2 = counter.b2  # explicit: output is log1p(count)
    mlp_graph(
        [
            (counter.w1.astype(np.float32), counter.b1.astype(np.float32)),
            (counter.w2.astype(np.float32), counter.b2.astype(np.float32)),
        ],
        mean.astype(np.float32),
        std.astype(np.float32),
        "Identity",
        out_name="log_count",
    ).save(str(args.out / "count_head.onnx"))
    meta = {
        "descriptor": DESCRIPTOR_VERSION,
        "classes": CLASSES,
        "seed": args.seed,
        "test_frac": args.test_frac,
        "views": args.views,
        "hidden": args.hidden,
        "epochs": args.epochs,
        "n_train_views": len(y),
        "n_train_images": sum(1 for v in split.values() if v == "train"),
        "n_test_images": sum(1 for v in split.values() if v == "test"),
    }
    (args.out / "training_meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    log.info("done in %.1fs -> %s", time.time() - t0, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
