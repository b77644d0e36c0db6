"""Train the people-count head for relative error, on the training split only.

Usage:
    python -m analytics.vision.training.train_count --data /path/to/vision --models analytics/vision/models

Run after ``train_cnn`` (it reads the split that ``train_heads`` recorded in ``<models>/split.csv`` and the
backbone inside ``scene_cnn.onnx``; the test rows are never read). Why: the shipped ``log_count`` heads are fitted
on every image with a count, most of them empty roads (0 persons), for squared error in log space. That mostly
separates "people" from "nobody" and regresses to the geometric mean; the evaluation metric, the mean absolute
percentage error (MAPE), is minimised by the *1/y-weighted median* of the count, lower than the median, so the
heads over-count in MAPE terms (held-out MAPE 29 %, worse than a constant).

What it fits:

1. a ridge regression of log(persons) on the standardised EfficientNet-Lite0 features of the training images
   that show people (count >= 1), over ``--views`` augmented views each: ``log_people``, a count *given that
   people are present*, written into ``scene_cnn.onnx`` as an extra output (a 1280 x 1 Gemm);
2. validation folds: the training rows are dealt into K seeded folds (recorded in ``<models>/count_folds.csv``);
   for each ridge penalty the folds give out-of-fold predictions of every image;
3. a power-law calibration ``people = c * exp(log_people) ** b`` minimising the out-of-fold MAPE on the crowd
   images (for each b on a grid, the optimal c is the exact 1/y-weighted median); the penalty with the lowest
   calibrated out-of-fold MAPE wins. ``<models>/count_calibration.json`` records b, c and the out-of-fold figures.

At run time (:mod:`analytics.vision.head`) the calibrated people count replaces the zero-inflated head count
where that head sees people. Seeded, deterministic, offline, CPU and onnxruntime only (no torch): about a minute.
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
import onnx
import onnxruntime as ort

from analytics.vision.head import CNN_SIZE, cnn_input
from analytics.vision.training.train_cnn import fit_ridge
from analytics.vision.training.train_heads import SEED, augment

log = logging.getLogger("pantau.train_count")

#: exponents tried for count = c * n ** b (b = 0 is a constant, b = 1 a pure rescaling)
B_GRID = tuple(round(0.05 * i, 2) for i in range(0, 31))
#: ridge penalties tried for the people-count head (chosen by out-of-fold MAPE)
LAMBDAS = (300.0, 1000.0, 3000.0)
PEOPLE_OUTPUT = "log_people"
PEOPLE_W, PEOPLE_B = "people_w", "people_b"


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """Smallest v with at least half the total weight at or below it. values, weights: (N,), weights > 0."""
    order = np.argsort(values, kind="mergesort")
    v, w = values[order], weights[order]
    cum = np.cumsum(w)
    return float(v[int(np.searchsorted(cum, 0.5 * cum[-1]))])


def mape(pred: np.ndarray, y: np.ndarray) -> float:
    """Mean absolute percentage error of (N,) predictions against (N,) positive targets."""
    return float(np.mean(np.abs(pred - y) / y))


def fit_power_calibration(n: np.ndarray, y: np.ndarray, grid: tuple[float, ...] = B_GRID) -> tuple[float, float, float]:
    """MAPE-optimal ``c * n ** b`` over the grid of b (c exact: 1/y-weighted median of y / n ** b).

    n: (N,) predicted counts > 0; y: (N,) true counts > 0 -> (b, c, MAPE)."""
    best = (np.inf, 1.0, 1.0)
    for b in grid:
        base = np.power(n, b)
        # sum_i |c * base_i - y_i| / y_i = sum_i (base_i / y_i) |c - y_i / base_i|: a weighted median in c
        c = weighted_median(y / base, base / y)
        err = mape(c * base, y)
        if err < best[0] - 1e-9:
            best = (err, b, c)
    return best[1], best[2], best[0]


def _feature_node(m: onnx.ModelProto) -> str:
    """Name of the standardised backbone features in scene_cnn.onnx: the input of the ``probs`` Gemm."""
    producer = {o: n for n in m.graph.node for o in n.output}
    soft = producer["probs"]
    return str(producer[soft.input[0]].input[0])


def cnn_feature_session(path: Path) -> ort.InferenceSession:
    """scene_cnn.onnx with its standardised backbone features (the count heads' input) exposed as an output."""
    m = onnx.load(str(path))
    m.graph.output.append(onnx.helper.make_tensor_value_info(_feature_node(m), onnx.TensorProto.FLOAT, None))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    return ort.InferenceSession(m.SerializeToString(), sess_options=opts, providers=["CPUExecutionProvider"])


def _feature_name(sess: ort.InferenceSession) -> str:
    return next(o.name for o in sess.get_outputs() if o.name not in ("probs", "log_count", PEOPLE_OUTPUT))


def add_people_head(path: Path, w: np.ndarray, b: float) -> None:
    """Write (or replace) the ``log_people`` output of scene_cnn.onnx: a Gemm on the standardised features."""
    m = onnx.load(str(path))
    g = m.graph
    for node in [n for n in g.node if PEOPLE_OUTPUT in n.output]:
        g.node.remove(node)
    for init in [i for i in g.initializer if i.name in (PEOPLE_W, PEOPLE_B)]:
        g.initializer.remove(init)
    for out in [o for o in g.output if o.name == PEOPLE_OUTPUT]:
        g.output.remove(out)
    feat = _feature_node(m)
    g.initializer.extend(
        [
            onnx.numpy_helper.from_array(w.astype(np.float32)[:, None], PEOPLE_W),
            onnx.numpy_helper.from_array(np.array([b], np.float32), PEOPLE_B),
        ]
    )
    g.node.append(onnx.helper.make_node("Gemm", [feat, PEOPLE_W, PEOPLE_B], [PEOPLE_OUTPUT], name="people_gemm"))
    g.output.append(onnx.helper.make_tensor_value_info(PEOPLE_OUTPUT, onnx.TensorProto.FLOAT, ["N", 1]))
    onnx.checker.check_model(m)
    onnx.save(m, str(path))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--models", type=Path, default=Path(__file__).resolve().parents[1] / "models")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--views", type=int, default=4)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    t0 = time.time()
    cv2.setRNGSeed(args.seed)
    with open(args.models / "split.csv", newline="") as fh:
        # images with people of the training split only (the test rows are never read)
        rows = [r for r in csv.DictReader(fh) if r["split"] == "train" and r["count"] and float(r["count"]) >= 1]
    rows.sort(key=lambda r: r["file"])
    y_all = np.array([float(r["count"]) for r in rows])
    crowd = np.array([r["label"] == "crowd" for r in rows])
    fold = np.full(len(rows), -1)
    fold[np.random.default_rng(args.seed + 11).permutation(len(rows))] = np.arange(len(rows)) % args.folds
    with open(args.models / "count_folds.csv", "w", newline="") as fh:
        wr = csv.writer(fh)
        wr.writerow(["file", "label", "count", "fold"])
        for r, f in zip(rows, fold, strict=True):
            wr.writerow([r["file"], r["label"], r["count"], int(f)])
    sess = cnn_feature_session(args.models / "scene_cnn.onnx")
    fname = _feature_name(sess)
    rng = np.random.default_rng(args.seed)
    xs, grp, orig = [], [], []
    for i, r in enumerate(rows):
        img = cv2.imread(str(args.data / r["file"]), cv2.IMREAD_COLOR)
        if img is None:
            raise FileNotFoundError(args.data / r["file"])
        views = augment(img, r["label"], rng, args.views, CNN_SIZE)
        xs.extend(sess.run([fname], {"image": np.concatenate([cnn_input(v) for v in views])})[0])
        grp.extend([i] * len(views))
        orig.append(sess.run([fname], {"image": cnn_input(img)})[0][0])  # as the runtime sees the image
    x, g, xo = np.asarray(xs, np.float64), np.asarray(grp), np.asarray(orig, np.float64)
    log.info("features %s of %d images (%.0fs)", x.shape, len(rows), time.time() - t0)
    trials = []
    for lam in LAMBDAS:
        oof = np.zeros(len(rows))
        for f in range(args.folds):
            tr = fold[g] != f
            w, b0 = fit_ridge(x[tr], np.log(y_all[g[tr]]), lam)
            oof[fold == f] = np.exp(xo[fold == f] @ w + b0)
        b, c, err = fit_power_calibration(oof[crowd], y_all[crowd])
        log.info(
            "lambda %g: out-of-fold MAPE raw %.3f, calibrated %.3f (b %.2f, c %.3f)",
            lam,
            mape(oof[crowd], y_all[crowd]),
            err,
            b,
            c,
        )
        trials.append((err, lam, b, c, oof))
    err, lam, b, c, oof = min(trials, key=lambda t: t[0])
    w, b0 = fit_ridge(x, np.log(y_all[g]), lam)
    add_people_head(args.models / "scene_cnn.onnx", w, b0)
    yc = y_all[crowd]
    const = weighted_median(yc, 1.0 / yc)
    out = {
        "form": "people = c * exp(log_people) ** b, blended with the zero-inflated head count (analytics.vision.head)",
        "b": round(b, 4),
        "c": round(c, 6),
        "ridge_lambda": lam,
        "fitted_on": "out-of-fold predictions of the training split's crowd images (folds in count_folds.csv)",
        "folds": args.folds,
        "seed": args.seed,
        "n_images": len(rows),
        "n_crowd_images": int(crowd.sum()),
        "train_count_range": [float(y_all.min()), float(y_all.max())],
        "oof_mape_raw": round(mape(oof[crowd], yc), 4),
        "oof_mape_calibrated": round(err, 4),
        "oof_mape_best_constant": round(mape(np.full_like(yc, const), yc), 4),
        "best_constant": const,
    }
    (args.models / "count_calibration.json").write_text(json.dumps(out, indent=2) + "\n")
    meta_path = args.models / "training_meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    meta["people_count"] = {
        k: out[k] for k in ("b", "c", "ridge_lambda", "folds", "oof_mape_raw", "oof_mape_calibrated")
    }
    meta["people_count"]["seconds"] = round(time.time() - t0, 1)
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    log.info("calibration %s (%.0fs)", out, time.time() - t0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
