"""Detector evaluation: ``pantau eval PATH`` on labelled image folders, and the metrics of camera clips scored
against per-frame ground truth (:func:`evaluate_clip`, :func:`clip_metrics`; the simulator's clip driver is
``simulate.evaluate``, behind ``pantau eval --clips``: analytics never imports simulate).

Image folders hold a ``MANIFEST.csv`` with at least ``file,label`` (labels fire, smoke, flood, crowd, normal;
several separated by ``;``), optional ``count`` (persons) and ``source`` (else ``source_repo``, else the file
name's prefix before ``_``). Unknown labels and unreadable files are reported in the result, never silently
skipped. Run: ``python -m analytics.evaluation PATH [--json] [--manifest CSV] [--split test] [--threshold fire=0.6]``.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import math
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from analytics.vision import MODEL_VERSION
from analytics.vision.config import CameraVisionConfig, Thresholds
from analytics.vision.pipeline import CameraAnalyzer, score_image

log = logging.getLogger(__name__)

CLASSES = ("fire", "smoke", "flood", "crowd")
KNOWN_LABELS = (*CLASSES, "normal")


def roc_auc(y: np.ndarray, s: np.ndarray) -> float | None:
    """Mann-Whitney ROC-AUC with tie correction; None when only one class is present. y: (N,) bool, s: (N,)."""
    y = np.asarray(y, bool)
    s = np.asarray(s, np.float64)
    ok = np.isfinite(s)
    y, s = y[ok], s[ok]
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), np.float64)
    sorted_s = s[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i : j + 1]] = 0.5 * (i + j) + 1.0
        i = j + 1
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def prf(y: np.ndarray, pred: np.ndarray) -> dict[str, float | int | None]:
    """Precision, recall, F1 and support of boolean predictions. y, pred: (N,) bool."""
    tp = int((y & pred).sum())
    fp = int((~y & pred).sum())
    fn = int((y & ~pred).sum())
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None
    return {"precision": precision, "recall": recall, "f1": f1, "support": int(y.sum()), "tp": tp, "fp": fp, "fn": fn}


@dataclass
class _Item:
    file: str
    labels: list[str]
    count: float | None
    source: str
    scores: dict[str, float] | None = None


def _source(row: Mapping[str, str]) -> str:
    if row.get("source"):
        return row["source"]
    if row.get("source_repo"):
        return row["source_repo"]
    return Path(row["file"]).name.split("_", 1)[0] if "_" in Path(row["file"]).name else "all"


def read_manifest(path: Path, manifest: Path | None = None, split: str | None = None) -> tuple[list[_Item], list[dict]]:
    """Rows of the manifest -> (items to score, problems). A ``split`` keeps rows whose ``split`` column matches."""
    mpath = manifest or path / "MANIFEST.csv"
    problems: list[dict] = []
    items: list[_Item] = []
    with open(mpath, newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or "file" not in reader.fieldnames or "label" not in reader.fieldnames:
            raise ValueError(f"{mpath}: needs at least the columns file,label")
        for i, row in enumerate(reader, start=2):
            if split is not None and row.get("split") != split:
                continue
            labels = [x.strip() for x in (row.get("label") or "").split(";") if x.strip()]
            bad = [x for x in labels if x not in KNOWN_LABELS]
            if not labels or bad:
                problems.append({"file": row.get("file"), "line": i, "reason": f"unknown label(s): {bad or '(empty)'}"})
                continue
            cnt_txt = (row.get("count") or "").strip()
            try:
                count = float(cnt_txt) if cnt_txt else None
            except ValueError:
                problems.append({"file": row["file"], "line": i, "reason": f"bad count {cnt_txt!r}"})
                count = None
            items.append(_Item(row["file"], labels, count, _source(row)))
    return items, problems


def _metrics(items: Sequence[_Item], th: Mapping[str, float]) -> dict[str, Any]:
    scored = [it for it in items if it.scores is not None]
    out: dict[str, Any] = {"n_images": len(scored), "classes": {}}
    if not scored:
        out.update({"normal_false_alarm_rate": None, "crowd_count": {"mae": None, "mape": None, "n": 0}})
        return out
    for c in CLASSES:
        y = np.array([c in it.labels for it in scored])
        s = np.array([it.scores[c] for it in scored], np.float64)  # type: ignore[index]
        pred = np.nan_to_num(s, nan=0.0) >= th[c]
        m = prf(y, pred)
        m["auc"] = roc_auc(y, s)
        m["threshold"] = th[c]
        out["classes"][c] = m
    normal = [it for it in scored if it.labels == ["normal"]]
    if normal:
        alarms = sum(any(it.scores[c] >= th[c] for c in CLASSES) for it in normal)  # type: ignore[index]
        out["normal_false_alarm_rate"] = alarms / len(normal)
        out["normal_images"] = len(normal)
    else:
        out["normal_false_alarm_rate"] = None
    counted = [it for it in scored if it.count is not None and "crowd" in it.labels]
    if counted:
        t = np.array([it.count for it in counted], np.float64)
        p = np.array([it.scores["count"] for it in counted], np.float64)  # type: ignore[index]
        err = np.abs(p - t)
        nz = t > 0
        out["crowd_count"] = {
            "mae": float(err.mean()),
            "mape": float((err[nz] / t[nz]).mean()) if nz.any() else None,
            "n": len(counted),
        }
    else:
        out["crowd_count"] = {"mae": None, "mape": None, "n": 0}
    return out


def run_eval(
    path: str | Path,
    json_out: bool = False,
    thresholds: Mapping[str, float] | None = None,
    manifest: str | Path | None = None,
    split: str | None = None,
    limit: int | None = None,
    stream: Any = None,
) -> dict[str, Any]:
    """Score a labelled image folder and compute the metrics (see module docstring). Prints a JSON object
    (``json_out``) or a readable summary to ``stream`` (default stdout); returns the result dict."""
    root = Path(path)
    th = Thresholds().as_dict()
    for k, v in (thresholds or {}).items():
        if k not in th:
            raise ValueError(f"unknown threshold {k!r}; expected one of {sorted(th)}")
        th[k] = float(v)
    items, problems = read_manifest(root, Path(manifest) if manifest else None, split)
    if limit:
        items = items[:limit]
    cfg = CameraVisionConfig(thresholds=Thresholds(**th))
    t_score = 0.0
    for it in items:
        fpath = root / it.file
        img = cv2.imread(str(fpath), cv2.IMREAD_COLOR) if fpath.is_file() else None
        if img is None:
            problems.append({"file": it.file, "reason": "missing file" if not fpath.is_file() else "unreadable image"})
            continue
        t0 = time.perf_counter()
        it.scores = score_image(img, cfg)
        t_score += time.perf_counter() - t0
    result = _metrics(items, th)
    result["frames_per_s"] = (result["n_images"] / t_score) if t_score > 0 else None
    result["model_version"] = MODEL_VERSION
    result["thresholds"] = th
    result["problems"] = problems
    result["n_problems"] = len(problems)
    result["images"] = [
        {
            "file": it.file,
            "labels": it.labels,
            "source": it.source,
            "scores": {c: _r(it.scores[c]) for c in CLASSES},
            "predicted": [c for c in CLASSES if it.scores[c] >= th[c]] or ["normal"],
            "count": _r(it.scores["count"]),
            "true_count": it.count,
        }
        for it in items
        if it.scores is not None
    ]
    by_src: dict[str, list[_Item]] = {}
    for it in items:
        by_src.setdefault(it.source, []).append(it)
    result["per_source"] = {}
    for src, group in sorted(by_src.items()):
        m = _metrics(group, th)
        # classes absent from a source have no F1 there; their false alarms are listed instead
        m["false_alarms"] = {c: v["fp"] for c, v in m["classes"].items() if v["support"] == 0 and v["fp"] > 0}
        m["classes"] = {c: v for c, v in m["classes"].items() if v["support"] > 0}
        result["per_source"][src] = m
    out = stream or sys.stdout
    if json_out:
        out.write(json.dumps(result, default=json_default) + "\n")
    else:
        _print_summary(result, out)
    return result


def _r(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), 4)


def json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(type(o).__name__)


def _fmt(x: Any) -> str:
    return "-" if x is None else f"{x:.3f}" if isinstance(x, float) else str(x)


def _print_summary(r: Mapping[str, Any], out: Any) -> None:
    lines = [f"images scored: {r['n_images']}   problems: {r['n_problems']}   frames/s: {_fmt(r['frames_per_s'])}"]
    lines.append(f"{'class':8} {'precision':>9} {'recall':>7} {'f1':>6} {'auc':>6} {'support':>7}")
    for c, m in r["classes"].items():
        lines.append(
            f"{c:8} {_fmt(m['precision']):>9} {_fmt(m['recall']):>7} {_fmt(m['f1']):>6} {_fmt(m['auc']):>6} {m['support']:>7}"
        )
    lines.append(f"normal false-alarm rate: {_fmt(r['normal_false_alarm_rate'])}")
    cc = r["crowd_count"]
    lines.append(f"crowd count: MAE {_fmt(cc['mae'])}  MAPE {_fmt(cc['mape'])}  (n={cc['n']})")
    for src, m in r["per_source"].items():
        f1s = "  ".join(f"{c} F1 {_fmt(v['f1'])}" for c, v in m["classes"].items())
        fa = ", ".join(f"{c} {n}" for c, n in m["false_alarms"].items()) or "none"
        lines.append(
            f"[{src}] n={m['n_images']}  {f1s}  FAR {_fmt(m['normal_false_alarm_rate'])}  "
            f"count MAPE {_fmt(m['crowd_count']['mape'])}  false alarms of absent classes: {fa}"
        )
    for p in r["problems"][:20]:
        lines.append(f"problem: {p}")
    out.write("\n".join(lines) + "\n")


# ----------------------------------------------------------------------------- camera clips


def evaluate_clip(
    camera_id: str,
    frames: Iterable[tuple[np.ndarray, Mapping[str, Any]]],
    config: CameraVisionConfig | None = None,
    crowd_persons: int = 20,
    health: Callable[[np.ndarray, float], str] | None = None,
) -> dict[str, Any]:
    """Run one camera's frames through a :class:`CameraAnalyzer` and compare with per-frame truth dicts
    (keys: t, fire, smoke, flood_depth_class, persons, fault). ``health`` plays the capture worker's health
    check (frame, ts) -> status; without it every frame is passed as "ok". Returns per-frame records."""
    cfg = config or CameraVisionConfig()
    an = CameraAnalyzer(camera_id, cfg)
    recs: list[dict[str, Any]] = []
    for img, truth in frames:
        t0 = time.perf_counter()
        status = health(img, float(truth["t"])) if health is not None else "ok"
        fs = an.process(img, float(truth["t"]), health=status)
        dt = time.perf_counter() - t0
        recs.append({"truth": dict(truth), "scores": fs, "seconds": dt})
    return {"camera_id": camera_id, "frames": recs, "crowd_persons": crowd_persons}


def clip_metrics(clips: Sequence[Mapping[str, Any]], th: Mapping[str, float]) -> dict[str, Any]:
    """Frame-level metrics of clips from :func:`evaluate_clip`: per-hazard P/R/F1/AUC on healthy frames, flood
    depth class accuracy, person count MAE/MAPE, fault frames (unhealthy / reported safe), quiet frames alarmed."""
    recs = [(c, r) for c in clips for r in c["frames"]]
    healthy = [(c, r) for c, r in recs if not r["truth"].get("fault")]
    out: dict[str, Any] = {"n_frames": len(recs), "classes": {}}
    truth_of = {
        "fire": lambda t, c: bool(t["fire"]),
        "smoke": lambda t, c: bool(t["smoke"]),
        "flood": lambda t, c: t.get("flood_depth_class") is not None,
        "crowd": lambda t, c: t["persons"] >= c["crowd_persons"],
    }
    for hz, fn in truth_of.items():
        y = np.array([fn(r["truth"], c) for c, r in healthy], bool)
        s = np.array([getattr(r["scores"], hz) for _, r in healthy], np.float64)
        m = prf(y, np.nan_to_num(s, nan=0.0) >= th[hz])
        m["auc"] = roc_auc(y, s)
        out["classes"][hz] = m
    pairs = [
        (r["truth"]["flood_depth_class"], r["scores"].flood_depth_class)
        for _, r in healthy
        if r["truth"].get("flood_depth_class") is not None and r["scores"].flood_depth_class is not None
    ]
    out["flood_depth_class"] = {
        "n": len(pairs),
        "accuracy": (sum(a == b for a, b in pairs) / len(pairs)) if pairs else None,
        "within_one": (sum(abs(a - b) <= 1 for a, b in pairs) / len(pairs)) if pairs else None,
    }
    tp = np.array([r["truth"]["persons"] for _, r in healthy], np.float64)
    pp = np.array([r["scores"].persons for _, r in healthy], np.float64)
    ok = np.isfinite(pp) & (tp > 0)
    out["persons"] = {
        "mae": float(np.abs(pp[ok] - tp[ok]).mean()) if ok.any() else None,
        "mape": float((np.abs(pp[ok] - tp[ok]) / tp[ok]).mean()) if ok.any() else None,
        "n": int(ok.sum()),
    }
    dense = np.array([r["truth"]["persons"] >= c["crowd_persons"] for c, r in healthy], bool) & ok
    out["persons_dense"] = {  # count accuracy where a crowd is present (truth >= the clip's crowd size)
        "mae": float(np.abs(pp[dense] - tp[dense]).mean()) if dense.any() else None,
        "mape": float((np.abs(pp[dense] - tp[dense]) / tp[dense]).mean()) if dense.any() else None,
        "n": int(dense.sum()),
    }
    faults = [r for _, r in recs if r["truth"].get("fault")]
    out["fault_frames"] = len(faults)
    out["fault_frames_reported_safe"] = sum(1 for r in faults if r["scores"].risk_level == "Normal")
    out["fault_frames_unhealthy"] = sum(1 for r in faults if r["scores"].health != "ok")
    quiet = [r for c, r in healthy if not any(fn(r["truth"], c) for fn in truth_of.values())]
    out["quiet_frames"] = len(quiet)
    out["quiet_frames_alarmed"] = sum(1 for r in quiet if (r["scores"].risk_level or "Normal") != "Normal")
    secs = sum(r["seconds"] for _, r in recs)
    out["frames_per_s"] = len(recs) / secs if secs else None
    return out


def first_alarm(clip: Mapping[str, Any]) -> dict[str, float | None]:
    """Seconds from the first positive truth frame to the hazard's first confirmed level >= Waspada (its own
    ``level_<hazard>``: smoke is timed separately from fire), per hazard."""
    out: dict[str, float | None] = {}
    recs = clip["frames"]
    for hz, key in (("fire", "fire"), ("smoke", "smoke"), ("flood", "flood_depth_class")):
        start = next((r["truth"]["t"] for r in recs if r["truth"].get(key)), None)
        if start is None:
            continue
        hit = next(
            (
                r["truth"]["t"]
                for r in recs
                if r["truth"]["t"] >= start and getattr(r["scores"], f"level_{hz}", None) not in (None, "Normal")
            ),
            None,
        )
        out[hz] = None if hit is None else round(hit - start, 2)
    return out


def format_clip_summary(result: Mapping[str, Any]) -> str:
    """Readable summary of a clip evaluation (:func:`clip_metrics` plus ``latency_s`` per clip)."""
    lines = [f"clip frames: {result['n_frames']}  frames/s: {_fmt(result['frames_per_s'])}"]
    for hz, m in result["classes"].items():
        lines.append(
            f"{hz:6} P {_fmt(m['precision'])} R {_fmt(m['recall'])} F1 {_fmt(m['f1'])} AUC {_fmt(m['auc'])} (n+ {m['support']})"
        )
    lines.append(f"flood depth class: {result['flood_depth_class']}")
    lines.append(f"persons: {result['persons']}; where a crowd is present: {result['persons_dense']}")
    lines.append(
        f"fault frames {result['fault_frames']}: unhealthy {result['fault_frames_unhealthy']}, "
        f"reported safe {result['fault_frames_reported_safe']}; quiet frames alarmed "
        f"{result['quiet_frames_alarmed']}/{result['quiet_frames']}"
    )
    for cam_id, lat in result.get("latency_s", {}).items():
        lines.append(f"{cam_id}: first alarm {lat}")
    return "\n".join(lines) + "\n"


def parse_thresholds(items: Sequence[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for it in items:
        k, _, v = it.partition("=")
        out[k.strip()] = float(v)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="pantau eval", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("path", type=Path, help="labelled image folder (simulator clips: pantau eval --clips)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--manifest", type=Path, default=None, help="manifest CSV (default PATH/MANIFEST.csv)")
    ap.add_argument("--split", default=None, help="keep only rows whose 'split' column equals this (e.g. test)")
    ap.add_argument("--threshold", action="append", default=[], help="operating threshold override, e.g. fire=0.6")
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args(argv)
    th = parse_thresholds(args.threshold)
    run_eval(args.path, args.json, th, args.manifest, args.split, args.limit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
