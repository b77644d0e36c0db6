"""Leave-one-source-out (LOSO) training and evaluation of the scene and road-user heads on backbone features.

For every labelled source S: train on all other sources (original + CCTV-augmented views), score S's original
images. Calibration (Platt: a temperature and a bias on the logit) and operating thresholds are chosen *inside*
each outer fold by an inner LOSO over the training sources only, so no figure of S has seen S (nested
validation). Thresholds: per hazard the best-F1 threshold among those raising at most ``far_budget / 4`` of the
normal images' alarms for that hazard (at most ``far_budget`` in all).

Person / vehicle counts: a ridge density head maps each backbone grid cell (stride 32) to the number of objects
whose box centre lies in it, per class; an image's count is the sum over cells of the clipped predictions,
times a per-class scale fitted for MAPE (inner folds). Only cells of images whose source labels that class train
it (see :data:`analytics.vision.training.dataset.BOX_CLASSES`).

Usage: ``pantau eval PATH --by-source`` (see :func:`run_by_source`) and
``python -m analytics.vision.training.loso --data PATH [--export analytics/vision/models]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize

from analytics.evaluation import prf, roc_auc
from analytics.vision.backbone import FEATURE_DIM
from analytics.vision.training.dataset import (
    COUNT_CLASSES,
    HAZARDS,
    POOLING,
    Row,
    cached_features,
    group_of,
    is_synthetic,
    load_rows,
)

log = logging.getLogger(__name__)

SEED = 20261204
L2 = 0.3
RIDGE = 30.0
PCA_DIM = 32
FAR_BUDGET = 0.05
#: add the synthetic street floods and hard negatives of training/synth.py to the training rows: off in the
#: shipped recipe (out-of-source it raised false alarms on real normal images; models/README.md)
SYNTHETIC = False
#: count bands for crowd MAPE (persons)
BANDS = ((1, 5), (6, 20), (21, 100), (101, math.inf))


# ----------------------------------------------------------------------------------------------- scene heads


@dataclass
class SceneHead:
    """Independent logistic heads on standardised features: p = sigmoid(a * (x_std @ w + b) + c)."""

    mean: np.ndarray  # (D,)
    std: np.ndarray  # (D,)
    w: np.ndarray  # (D, K)
    b: np.ndarray  # (K,)
    a: np.ndarray  # (K,) Platt slope (1 / temperature)
    c: np.ndarray  # (K,) Platt bias
    thresholds: np.ndarray  # (K,) on the calibrated probability

    def logits(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.std) @ self.w + self.b

    def proba(self, x: np.ndarray) -> np.ndarray:
        return _sigmoid(self.a * self.logits(x) + self.c)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


def targets(rows: Sequence[Row], idx: np.ndarray) -> np.ndarray:
    """(V,) row indices -> (V, K) 0/1 hazard labels."""
    return np.array([[h in rows[i].labels for h in HAZARDS] for i in idx], np.float64)


def group_weights(rows: Sequence[Row], idx: np.ndarray) -> np.ndarray:
    """Each (source, label) group gets the same total weight (sources differ 10-fold in size)."""
    keys = [(rows[i].source, rows[i].labels) for i in idx]
    uniq: dict[tuple, int] = {}
    for k in keys:
        uniq[k] = uniq.get(k, 0) + 1
    w = np.array([1.0 / uniq[k] for k in keys])
    return w * (len(w) / w.sum())


def fit_logistic(x: np.ndarray, y: np.ndarray, sw: np.ndarray, l2: float = L2) -> tuple[np.ndarray, np.ndarray]:
    """K independent weighted logistic regressions by L-BFGS on standardised x (N, D), y (N, K) -> (w, b)."""
    d = x.shape[1]
    k = y.shape[1]
    swn = sw / sw.sum()

    def f(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w = theta[: d * k].reshape(d, k)
        b = theta[d * k :]
        z = x @ w + b
        p = _sigmoid(z)
        eps = 1e-9
        loss = -(swn[:, None] * (y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))).sum() + 0.5 * l2 * (w * w).sum()
        g = swn[:, None] * (p - y)
        gw = x.T @ g + l2 * w
        return float(loss), np.concatenate([gw.ravel(), g.sum(axis=0)])

    res = minimize(f, np.zeros(d * k + k), jac=True, method="L-BFGS-B", options={"maxiter": 150})
    return res.x[: d * k].reshape(d, k), res.x[d * k :]


def fit_platt(z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Slope and bias of sigmoid(a z + c) minimising log-loss on out-of-source logits z (N,), labels y (N,)."""

    def f(t: np.ndarray) -> tuple[float, np.ndarray]:
        p = _sigmoid(t[0] * z + t[1])
        eps = 1e-9
        loss = -np.mean(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))
        g = (p - y) / len(y)
        return float(loss), np.array([float((g * z).sum()), float(g.sum())])

    res = minimize(f, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B", bounds=[(0.05, 5.0), (-20, 20)])
    return float(res.x[0]), float(res.x[1])


def choose_threshold(p: np.ndarray, y: np.ndarray, normal: np.ndarray, far: float) -> float:
    """Best-F1 threshold on out-of-source probabilities p (N,) whose false alarms on normal images stay <= far."""
    pn = np.sort(p[normal])
    floor = 0.5
    if len(pn):
        k = math.floor(far * len(pn))  # at most k normal images may reach the threshold
        floor = float(pn[len(pn) - k - 1]) + 1e-6 if k < len(pn) else 0.0
    cands = np.unique(np.concatenate([[floor], p[p >= floor] + 1e-9]))
    best_t, best_f = max(floor, 1e-3), -1.0
    yb = y.astype(bool)
    for t in cands[:: max(1, len(cands) // 400)]:
        pred = p >= t
        tp = int((pred & yb).sum())
        f1 = 2 * tp / max(1, int(pred.sum()) + int(yb.sum()))
        if f1 > best_f:
            best_f, best_t = f1, float(t)
    return float(min(max(best_t, 1e-3), 0.999))


class PooledStats:
    """Standardisation and principal directions of the pooled features, fitted once without labels.

    The basis is label-free: it is fitted on the original views of every image given (a held-out source's
    *features* shape it, never its labels); each fold then fits its heads on its training sources only. A seeded
    randomised SVD keeps this cheap for 2560-dimensional features."""

    def __init__(self, rows: Sequence[Row], feats: dict[str, np.ndarray], dim: int | None = None) -> None:
        self.src = np.array([group_of(rows[i].source) for i in feats["row"]])  # LOSO unit of every view
        x = feats["pooled"][feats["view"] == 0].astype(np.float64)
        self.mean = x.mean(axis=0)
        self.std = x.std(axis=0) + 1e-3
        z = (x - self.mean) / self.std
        k = dim or PCA_DIM
        if z.shape[1] <= k:  # already small: no projection
            self.proj = np.eye(z.shape[1])
            return
        rng = np.random.default_rng(SEED)
        q = z @ rng.normal(size=(z.shape[1], k + 16))
        for _ in range(2):  # power iterations sharpen the leading directions
            q, _ = np.linalg.qr(z @ (z.T @ q))
        _, _, vt = np.linalg.svd(q.T @ z, full_matrices=False)
        self.proj = vt[:k].T  # (D, k)

    def basis(self, train_src: set[str], dim: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(mean (D,), std (D,), P (D, dim))."""
        return self.mean, self.std, self.proj[:, : (dim or self.proj.shape[1])]


def train_scene(
    rows: Sequence[Row],
    feats: dict[str, np.ndarray],
    train_src: set[str],
    calibrate: bool = True,
    stats: PooledStats | None = None,
) -> SceneHead:
    """Heads on every view of rows from ``train_src``; calibration and thresholds by inner LOSO on those sources.
    Features are standardised and projected on the top PCA_DIM principal directions (:class:`PooledStats`); the
    projection is folded into the head's weights."""
    stats = stats or PooledStats(rows, feats)
    sel = np.isin(stats.src, list(train_src))
    x, idx = feats["pooled"][sel], feats["row"][sel]
    mu, sd, proj = stats.basis(train_src, PCA_DIM)
    xs = ((x - mu) / sd) @ proj
    y = targets(rows, idx)
    w, b = fit_logistic(xs, y, group_weights(rows, idx), L2)
    k = len(HAZARDS)
    head = SceneHead(mu, sd, proj @ w, b, np.ones(k), np.zeros(k), np.full(k, 0.5))
    if not calibrate:
        return head
    z, yo, normal, valid = inner_oof(rows, feats, train_src, stats)
    for j in range(k):
        v = valid[:, j]  # only folds whose training sources still held this hazard say how it generalises
        if yo[v, j].sum() == 0:
            # a hazard from one source only: no out-of-source positives to calibrate on; the threshold keeps the
            # false-alarm budget on normal images (and at least 0.5)
            t = choose_threshold(_sigmoid(z[:, j]), np.zeros(len(z)), normal, FAR_BUDGET / k)
            head.thresholds[j] = max(0.5, t)
            continue
        head.a[j], head.c[j] = fit_platt(z[v, j], yo[v, j])
        head.thresholds[j] = choose_threshold(
            _sigmoid(head.a[j] * z[v, j] + head.c[j]), yo[v, j], normal[v], FAR_BUDGET / k
        )
    return head


def inner_oof(
    rows: Sequence[Row], feats: dict[str, np.ndarray], sources: set[str], stats: PooledStats
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Out-of-source logits of the original images of ``sources`` (each scored by heads trained without its
    source) -> (z (N, K), labels (N, K), normal (N,) bool, valid (N, K) bool: the fold's training sources held
    positives of that hazard)."""
    zs, ys, ns, vs = [], [], [], []
    for s in sorted(sources):
        rest = sources - {s}
        head = train_scene(rows, feats, rest, calibrate=False, stats=stats)
        m = (feats["view"] == 0) & (stats.src == s)
        zs.append(head.logits(feats["pooled"][m]))
        ys.append(targets(rows, feats["row"][m]))
        ns.append(np.array([rows[i].labels == ("normal",) for i in feats["row"][m]]))
        has = np.array([any(h in r.labels for r in rows if group_of(r.source) in rest) for h in HAZARDS])
        vs.append(np.tile(has, (int(m.sum()), 1)))
    return np.concatenate(zs), np.concatenate(ys), np.concatenate(ns), np.concatenate(vs)


# ----------------------------------------------------------------------------------------------- count head


@dataclass
class CountHead:
    """Per-cell ridge density: count_cell = max(0, ((x - mean) / std) @ w + b) * scale, per class."""

    mean: np.ndarray  # (D,)
    std: np.ndarray  # (D,)
    w: np.ndarray  # (D, C)
    b: np.ndarray  # (C,)
    scale: np.ndarray  # (C,)
    trained: np.ndarray  # (C,) bool: the class had labelled cells

    def cells(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(0.0, ((x - self.mean) / self.std) @ self.w + self.b) * self.scale


class Grams:
    """Per-source sufficient statistics of the cell features, so that each fold's ridge is a sum and a solve.

    Cell features are standardised and projected on their top ``dim`` principal directions (fitted on a seeded
    sample of cells) first; the projection folds back into one linear layer (w = P @ w_proj) for export."""

    def __init__(self, rows: Sequence[Row], feats: dict[str, np.ndarray], dim: int = 128, max_view: int = 1) -> None:
        keep = feats["view"][feats["cell_row"]] <= max_view if len(feats["cell_row"]) else np.zeros(0, bool)
        cr = feats["cell_row"][keep]
        x = feats["cell_feat"][keep]
        d_in = x.shape[1]
        src_of_view = np.array([rows[i].source for i in feats["row"]])
        known_of_view = np.array([rows[i].known for i in feats["row"]], bool).reshape(len(feats["row"]), -1)
        self.src = src_of_view[cr] if len(cr) else np.zeros(0, str)
        self.known = known_of_view[cr] if len(cr) else np.zeros((0, len(COUNT_CLASSES)), bool)
        self.y = feats["cell_count"][keep].astype(np.float64)
        if len(x):
            sample = x[np.random.default_rng(SEED).choice(len(x), min(len(x), 6000), replace=False)].astype(np.float64)
            self.mean = sample.mean(axis=0)
            self.std = sample.std(axis=0) + 1e-3
            _, _, vt = np.linalg.svd((sample - self.mean) / self.std, full_matrices=False)
            self.proj = vt[: min(dim, vt.shape[0])].T  # (D, dim)
        else:
            self.mean, self.std, self.proj = np.zeros(d_in), np.ones(d_in), np.eye(d_in)[:, :1]
        self.z = np.zeros((len(x), self.proj.shape[1]), np.float32)
        for a in range(0, len(x), 20000):
            self.z[a : a + 20000] = ((x[a : a + 20000].astype(np.float64) - self.mean) / self.std) @ self.proj
        self.stats: dict[tuple[str, int], tuple[np.ndarray, np.ndarray, np.ndarray, float, int]] = {}
        for s in np.unique(self.src):
            for c in range(len(COUNT_CLASSES)):
                m = (self.src == s) & self.known[:, c]
                if not m.any():
                    continue
                zs = self.z[m].astype(np.float64)
                yc = self.y[m, c]
                self.stats[(s, c)] = (zs.T @ zs, zs.T @ yc, zs.sum(axis=0), float(yc.sum()), int(m.sum()))

    def fit(self, train_src: set[str], ridge: float = RIDGE) -> CountHead:
        d, k = self.proj.shape[1], len(COUNT_CLASSES)
        w, b, trained = np.zeros((d, k)), np.zeros(k), np.zeros(k, bool)
        for c in range(k):
            parts = [v for (s, cc), v in self.stats.items() if cc == c and s in train_src]
            if not parts:
                continue
            g = sum(p[0] for p in parts)
            xy = sum(p[1] for p in parts)
            sx = sum(p[2] for p in parts)
            sy = sum(p[3] for p in parts)
            n = sum(p[4] for p in parts)
            mx, my = sx / n, sy / n
            gc = g - n * np.outer(mx, mx)  # centred Gram
            xyc = xy - n * mx * my
            w[:, c] = np.linalg.solve(gc + ridge * n / 1000.0 * np.eye(d), xyc)
            b[c] = my - mx @ w[:, c]
            trained[c] = True
        return CountHead(self.mean, self.std, self.proj @ w, b, np.ones(k), trained)


def _cell_slices(feats: dict[str, np.ndarray], views: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    cr = feats["cell_row"]  # ascending: cells are stored view by view
    return np.searchsorted(cr, views, "left"), np.searchsorted(cr, views, "right")


def image_counts(head: CountHead, feats: dict[str, np.ndarray], views: np.ndarray) -> np.ndarray:
    """(V,) view indices (into feats['row']) with cells -> (V, C) predicted counts."""
    out = np.zeros((len(views), len(COUNT_CLASSES)))
    lo, hi = _cell_slices(feats, views)
    for j in range(len(views)):
        if hi[j] > lo[j]:
            out[j] = head.cells(feats["cell_feat"][lo[j] : hi[j]].astype(np.float64)).sum(axis=0)
    return out


def true_counts(feats: dict[str, np.ndarray], views: np.ndarray) -> np.ndarray:
    lo, hi = _cell_slices(feats, views)
    return np.array([feats["cell_count"][a:b].sum(axis=0) for a, b in zip(lo, hi, strict=True)]).reshape(
        len(views), len(COUNT_CLASSES)
    )


def mape_scale(pred: np.ndarray, true: np.ndarray) -> float:
    """Scale c minimising mean |c * pred - true| / true: the weighted median of true/pred, weights pred/true."""
    ok = (true > 0) & (pred > 1e-6)
    if not ok.any():
        return 1.0
    r = true[ok] / pred[ok]
    wt = pred[ok] / true[ok]
    o = np.argsort(r)
    cum = np.cumsum(wt[o])
    return float(r[o][np.searchsorted(cum, 0.5 * cum[-1])])


def train_count(rows: Sequence[Row], feats: dict[str, np.ndarray], grams: Grams, train_src: set[str]) -> CountHead:
    head = grams.fit(train_src)
    # per-class MAPE scale from inner out-of-source predictions on the training sources' original images
    preds, trues, known = [], [], []
    for s in sorted(train_src):
        inner = grams.fit(train_src - {s})
        views = _orig_views_with_cells(rows, feats, {s})
        if not len(views):
            continue
        preds.append(image_counts(inner, feats, views))
        trues.append(true_counts(feats, views))
        known.append(np.array([rows[feats["row"][v]].known for v in views], bool))
    if preds:
        p, t, kn = np.concatenate(preds), np.concatenate(trues), np.concatenate(known)
        for c in range(len(COUNT_CLASSES)):
            if head.trained[c] and kn[:, c].any():
                head.scale[c] = mape_scale(p[kn[:, c], c], t[kn[:, c], c])
    return head


def _orig_views_with_cells(rows: Sequence[Row], feats: dict[str, np.ndarray], sources: set[str]) -> np.ndarray:
    has = np.zeros(len(feats["row"]), bool)
    has[np.unique(feats["cell_row"])] = True
    src = np.array([group_of(rows[i].source) in sources for i in feats["row"]])
    return np.nonzero(has & src & (feats["view"] == 0))[0]


# ----------------------------------------------------------------------------------------------- evaluation


def _band_mape(t: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for lo, hi in BANDS:
        m = (t >= lo) & (t <= hi)
        name = f"{lo}-{int(hi)}" if math.isfinite(hi) else f">{lo - 1}"
        if m.any():
            out[name] = {
                "n": int(m.sum()),
                "mape": float(np.mean(np.abs(p[m] - t[m]) / t[m])),
                "mae": float(np.mean(np.abs(p[m] - t[m]))),
            }
    return out


def evaluate(rows: list[Row], feats: dict[str, np.ndarray], nested: bool = True) -> dict[str, Any]:
    """Nested LOSO over every source: out-of-source scores of every original image, then per-source and pooled
    metrics (F1 / AUC per hazard, false alarms on normal images, person/vehicle count MAE/MAPE per band)."""
    sources = sorted({group_of(r.source) for r in rows})
    n_rows = len(rows)
    probs = np.full((n_rows, len(HAZARDS)), np.nan)
    pred = np.zeros((n_rows, len(HAZARDS)), bool)
    counts = np.full((n_rows, len(COUNT_CLASSES)), np.nan)
    grams = Grams(rows, feats)
    stats = PooledStats(rows, feats)
    orig = feats["view"] == 0
    for s in sources:
        train = set(sources) - {s}
        head = train_scene(rows, feats, train, calibrate=nested, stats=stats)
        m = orig & (stats.src == s)
        p = head.proba(feats["pooled"][m])
        probs[feats["row"][m]] = p
        pred[feats["row"][m]] = p >= head.thresholds
        ch = train_count(rows, feats, grams, train)
        views = _orig_views_with_cells(rows, feats, {s})
        if len(views):
            counts[feats["row"][views]] = image_counts(ch, feats, views)
        log.info("fold %s: thresholds %s", s, np.round(head.thresholds, 3).tolist())
    return metrics(rows, feats, probs, pred, counts)


def metrics(
    rows: list[Row], feats: dict[str, np.ndarray], probs: np.ndarray, pred: np.ndarray, counts: np.ndarray
) -> dict[str, Any]:
    y = np.array([[h in r.labels for h in HAZARDS] for r in rows], bool)
    src = np.array([r.source for r in rows])
    normal = np.array([r.labels == ("normal",) for r in rows])
    synth = np.array([is_synthetic(r.source) for r in rows], bool)
    scored_all = np.isfinite(probs[:, 0])
    # pooled and real-source figures count real images only; synthetic rows are reported apart
    scored = scored_all & ~synth
    out: dict[str, Any] = {"pooled": {}, "per_source": {}, "counts": {}}
    for j, h in enumerate(HAZARDS):
        m = prf(y[scored, j], pred[scored, j])
        m["auc"] = roc_auc(y[scored, j], probs[scored, j])
        out["pooled"][h] = m
    out["pooled"]["normal_false_alarm_rate"] = float(pred[normal & scored].any(axis=1).mean())
    if (synth & scored_all).any():
        # synthetic street floods against every negative (real and synthetic wet roads): a check of the
        # renderings, never a real-flood figure
        j = HAZARDS.index("flood")
        sel = scored_all & ((synth & y[:, j]) | ~y[:, j])
        m = prf(y[sel, j], pred[sel, j])
        m["auc"] = roc_auc(y[sel, j], probs[sel, j])
        out["synthetic"] = {
            "flood": m,
            "wet_false_alarm_rate": float(pred[synth & normal & scored_all].any(axis=1).mean())
            if (synth & normal & scored_all).any()
            else None,
        }
    for s in sorted(set(src)):
        ms = (src == s) & scored_all
        d: dict[str, Any] = {"n": int(ms.sum())}
        neg_pool = scored_all if is_synthetic(s) else scored
        for j, h in enumerate(HAZARDS):
            if y[ms, j].any():
                # the source's positives against every out-of-source negative (all real sources; synthetic
                # sources also against the synthetic wet roads)
                sel = neg_pool & ((src == s) | ~y[:, j])
                r = prf(y[sel, j], pred[sel, j])
                d[h] = {
                    "f1": r["f1"],
                    "recall": r["recall"],
                    "precision": r["precision"],
                    "auc": roc_auc(y[sel, j], probs[sel, j]),
                }
        if normal[ms].any():
            d["normal_false_alarm_rate"] = float(pred[ms & normal].any(axis=1).mean())
            d["false_alarms_by_hazard"] = {h: int(pred[ms & normal, j].sum()) for j, h in enumerate(HAZARDS)}
        out["per_source"][s] = d
    tc = np.zeros((len(rows), len(COUNT_CLASSES)))
    orig = np.nonzero(feats["view"] == 0)[0]
    tc[feats["row"][orig]] = true_counts(feats, orig)
    known = np.array([r.known for r in rows], bool)
    for c, name in enumerate(COUNT_CLASSES):
        by_src: dict[str, Any] = {}
        for s in sorted(set(src)):
            m = (src == s) & known[:, c] & np.isfinite(counts[:, c]) & (tc[:, c] > 0)
            if m.any():
                t, p = tc[m, c], counts[m, c]
                by_src[s] = {
                    "n": int(m.sum()),
                    "mae": float(np.mean(np.abs(p - t))),
                    "mape": float(np.mean(np.abs(p - t) / t)),
                    "bands": _band_mape(t, p),
                    "constant_mape": float(np.mean(np.abs(np.median(t) - t) / t)),
                }
                # a constant that a model trained without this source could know: the other sources' median
                other = (src != s) & known[:, c] & (tc[:, c] > 0) & ~synth
                if other.any():
                    by_src[s]["other_constant_mape"] = float(np.mean(np.abs(np.median(tc[other, c]) - t) / t))
        out["counts"][name] = by_src
    return out


def summary_lines(r: dict[str, Any]) -> list[str]:
    def f(x: Any) -> str:
        return "-" if x is None else f"{x:.3f}" if isinstance(x, float) else str(x)

    lines = [
        "pooled out-of-source: "
        + "  ".join(f"{h} F1 {f(r['pooled'][h]['f1'])} AUC {f(r['pooled'][h]['auc'])}" for h in HAZARDS)
    ]
    lines.append(f"pooled normal false-alarm rate: {f(r['pooled']['normal_false_alarm_rate'])}")
    if "synthetic" in r:
        sy = r["synthetic"]
        lines.append(
            f"SYNTHETIC street floods (renderings, not real): flood F1 {f(sy['flood']['f1'])} "
            f"AUC {f(sy['flood']['auc'])}; wet-road false-alarm rate {f(sy['wet_false_alarm_rate'])}"
        )
    per = r["per_source"]
    for s, d in per.items():
        parts = [f"{h} F1 {f(d[h]['f1'])} (R {f(d[h]['recall'])})" for h in HAZARDS if h in d]
        if "normal_false_alarm_rate" in d:
            parts.append(f"FAR {f(d['normal_false_alarm_rate'])} {d['false_alarms_by_hazard']}")
        lines.append(f"[{s}] n={d['n']}  " + "  ".join(parts))
    real = {s: d for s, d in per.items() if not is_synthetic(s)}
    for h in HAZARDS:
        vals = [d[h]["f1"] for d in real.values() if h in d and d[h]["f1"] is not None]
        if vals:
            lines.append(f"{h} F1 by source: worst {min(vals):.3f}  mean {float(np.mean(vals)):.3f}")
    fars = [d["normal_false_alarm_rate"] for d in real.values() if "normal_false_alarm_rate" in d]
    if fars:
        lines.append(f"normal FAR by source: worst {max(fars):.3f}  mean {float(np.mean(fars)):.3f}")
    for c, by_src in r["counts"].items():
        for s, d in by_src.items():
            bands = ", ".join(f"{k}: {v['mape']:.2f} (n {v['n']})" for k, v in d["bands"].items())
            lines.append(
                f"count {c} [{s}] n={d['n']} MAE {d['mae']:.2f} MAPE {d['mape']:.3f} (constant: own median "
                f"{d['constant_mape']:.3f}, other sources' median {d.get('other_constant_mape', float('nan')):.3f}); bands {bands}"
            )
    return lines


def run_by_source(
    path: Path,
    cache_dir: Path | None = None,
    variant: str = "lite0",
    views: int = 3,
    json_out: bool = False,
    stream: Any = None,
    manifest: Path | None = None,
    synthetic: bool | None = None,
) -> dict[str, Any]:
    """``pantau eval PATH --by-source``: nested LOSO of the head recipe on PATH's sources (backbone features
    cached in ``cache_dir``, default ``~/.cache/pantau-features``); ``synthetic`` (default :data:`SYNTHETIC`)
    adds the synthetic street floods and wet roads made from PATH's dry street sources."""
    syn = SYNTHETIC if synthetic is None else synthetic
    rows = load_rows(path, manifest, synthetic=syn)
    cache = feature_cache(path, cache_dir, variant, views, syn)
    base = feature_cache(path, cache_dir, variant, views, False) if syn else None
    feats = cached_features(path, rows, cache, base=base, variant=variant, views=views)
    res = evaluate(rows, feats)
    res["variant"], res["views"], res["n_rows"] = variant, views, len(rows)
    out = stream or sys.stdout
    if json_out:
        out.write(json.dumps(res, default=lambda o: o.item() if isinstance(o, np.generic) else str(o)) + "\n")
    else:
        out.write("\n".join(summary_lines(res)) + "\n")
    return res


def feature_cache(path: Path, cache_dir: Path | None, variant: str, views: int, synthetic: bool) -> Path:
    """Where the backbone features of PATH's rows are cached (outside the repository)."""
    base = cache_dir or Path.home() / ".cache" / "pantau-features"
    return base / f"{path.resolve().name}_{variant}_v{views}_{POOLING}{'_syn' if synthetic else ''}.npz"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--variant", default="lite0")
    ap.add_argument("--views", type=int, default=3)
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--export", type=Path, default=None, help="train on every source and write the heads here")
    ap.add_argument("--manifest", type=Path, default=None)
    ap.add_argument(
        "--synthetic",
        action=argparse.BooleanOptionalAction,
        default=SYNTHETIC,
        help="add synthetic street floods and wet roads made from the dry street sources",
    )
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.export is not None:
        rows = load_rows(args.data, synthetic=args.synthetic)
        cache = feature_cache(args.data, args.cache, args.variant, args.views, args.synthetic)
        base = feature_cache(args.data, args.cache, args.variant, args.views, False) if args.synthetic else None
        feats = cached_features(args.data, rows, cache, base=base, variant=args.variant, views=args.views)
        log.info("exported %s", export(rows, feats, args.export, args.variant, args.views))
        return 0
    run_by_source(
        args.data, args.cache, args.variant, args.views, args.json, manifest=args.manifest, synthetic=args.synthetic
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


# ----------------------------------------------------------------------------------------------- export


def export(rows: list[Row], feats: dict[str, np.ndarray], out: Path, variant: str, views: int) -> dict[str, Any]:
    """Train on every source (calibration and thresholds from the LOSO over all of them) and write
    ``scene_<variant>.onnx``, ``count_<variant>.onnx`` and ``heads_<variant>.json`` (checked by onnx.checker)."""
    from analytics.vision.onnx_build import GraphBuilder

    sources = {group_of(r.source) for r in rows}
    head = train_scene(rows, feats, sources)
    g = GraphBuilder(name=f"scene_{variant}")
    g.input("features", ["N", head.w.shape[0]])
    x = g.node("Sub", ["features", g.const(head.mean.astype(np.float32), "mean")])
    x = g.node("Div", [x, g.const(head.std.astype(np.float32), "std")])
    # Platt calibration folded into the linear layer: a * (x w + b) + c
    z = g.gemm(x, (head.w * head.a).astype(np.float32), (head.b * head.a + head.c).astype(np.float32))
    g.node("Sigmoid", [z], "probs")
    g.output("probs", ["N", len(HAZARDS)])
    g.save(out / f"scene_{variant}.onnx")
    grams = Grams(rows, feats)
    ch = train_count(rows, feats, grams, sources)
    g = GraphBuilder(name=f"count_{variant}")
    g.input("cells", ["N", ch.w.shape[0]])
    x = g.node("Sub", ["cells", g.const(ch.mean.astype(np.float32), "mean")])
    x = g.node("Div", [x, g.const(ch.std.astype(np.float32), "std")])
    x = g.node("Relu", [g.gemm(x, ch.w.astype(np.float32), ch.b.astype(np.float32))])
    g.node("Mul", [x, g.const(ch.scale.astype(np.float32), "scale")], "counts")
    g.output("counts", ["N", len(COUNT_CLASSES)])
    g.save(out / f"count_{variant}.onnx")
    tc = true_counts(feats, np.nonzero(feats["view"] == 0)[0])
    meta = {
        "backbone": variant,
        "pooling": "mean" if feats["pooled"].shape[1] == FEATURE_DIM else "mean+max",
        "pca_dim": PCA_DIM,
        "hazards": list(HAZARDS),
        "thresholds": {h: round(float(t), 4) for h, t in zip(HAZARDS, head.thresholds, strict=True)},
        "platt": {h: [round(float(a), 4), round(float(c), 4)] for h, a, c in zip(HAZARDS, head.a, head.c, strict=True)},
        "count_classes": list(COUNT_CLASSES),
        "count_scale": [round(float(s), 4) for s in ch.scale],
        "count_trained": [bool(t) for t in ch.trained],
        "max_trained_count": [float(tc[:, c].max()) if len(tc) else 0.0 for c in range(len(COUNT_CLASSES))],
        "views": views,
        "seed": SEED,
        "sources": sorted(sources),
        "synthetic_sources": sorted({r.source for r in rows if is_synthetic(r.source)}),
        "n_images": len(rows),
        "far_budget": FAR_BUDGET,
        "l2": L2,
        "ridge": RIDGE,
    }
    (out / f"heads_{variant}.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta
