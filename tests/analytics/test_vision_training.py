"""CCTV-like augmentation, leave-one-source-out training/evaluation of the heads, and ``--by-source`` end to end
on a small generated image set (no shared data needed)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import cv2
import numpy as np
import pytest

from analytics.vision.training import augment as A
from analytics.vision.training import loso
from analytics.vision.training.dataset import COUNT_CLASSES, HAZARDS, Row
from analytics.vision.training.loso import choose_threshold, evaluate, run_by_source


def scene(seed: int = 0, h: int = 120, w: int = 200) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = cv2.resize(rng.integers(40, 200, (h // 10, w // 10, 3), np.uint8), (w, h), interpolation=cv2.INTER_CUBIC)
    return img


@pytest.mark.parametrize("fn", A.PHOTOMETRIC, ids=lambda f: f.__name__)
def test_photometric_views_keep_shape_and_change_pixels(fn: object) -> None:
    img = scene()
    out = fn(img, np.random.default_rng(3))  # type: ignore[operator]
    assert out.shape == img.shape and out.dtype == np.uint8
    assert float(np.abs(out.astype(int) - img.astype(int)).mean()) > 0.5


def test_far_away_moves_boxes_with_the_pixels() -> None:
    img = np.zeros((100, 200, 3), np.uint8)
    img[40:60, 90:110] = 255  # a white square at the centre
    boxes = np.array([[0, 0.5, 0.5, 0.1, 0.2]], np.float32)
    out, b = A.far_away(img, boxes, np.random.default_rng(5))
    ys, xs = np.nonzero(out[..., 0] > 200)
    assert b[0, 1] == pytest.approx(xs.mean() / 200, abs=0.02)
    assert b[0, 2] == pytest.approx(ys.mean() / 100, abs=0.03)
    assert b[0, 3] < 0.1 and b[0, 4] < 0.2  # smaller: further away


def test_barrel_keeps_the_centre_and_pulls_corners_in() -> None:
    boxes = np.array([[0, 0.5, 0.5, 0.1, 0.1], [0, 0.9, 0.9, 0.1, 0.1]], np.float32)
    _, b = A.barrel(scene(), boxes, np.random.default_rng(1))
    assert b[0, 1:3] == pytest.approx([0.5, 0.5])
    assert 0.5 < b[1, 1] < 0.9 and 0.5 < b[1, 2] < 0.9


def test_threshold_respects_the_false_alarm_budget() -> None:
    rng = np.random.default_rng(0)
    p = np.concatenate([rng.uniform(0.0, 0.6, 100), rng.uniform(0.4, 1.0, 50)])
    y = np.r_[np.zeros(100), np.ones(50)]
    normal = y == 0
    for far in (0.0, 0.02, 0.1):
        t = choose_threshold(p, y, normal, far)
        assert float((p[normal] >= t).mean()) <= far + 1e-9


def synthetic(n_per: int = 40, seed: int = 0) -> tuple[list[Row], dict[str, np.ndarray]]:
    """Sources a, b: fire + normal; c: smoke + normal; d: persons counted in cells. Feature 0 carries fire,
    1 smoke, 2 persons per cell; each source has its own offset on the other dims (a domain shift)."""
    rng = np.random.default_rng(seed)
    rows: list[Row] = []
    pooled, row_i, view, cell_row, cell_feat, cell_count = [], [], [], [], [], []
    plan = [("a", "fire"), ("a", "normal"), ("b", "fire"), ("b", "normal"), ("c", "smoke"), ("c", "normal"),
            ("d", "crowd"), ("e", "crowd")]  # fmt: skip
    for src, lab in plan:
        shift = rng.normal(0, 1, 8)
        shift[:3] = 0.0  # the domain shift lies in the other dimensions
        for _ in range(n_per):
            i = len(rows)
            known = (True, False, False, False) if src in ("d", "e") else (False,) * 4
            rows.append(Row(f"{lab}/{src}_{i}.jpg", (lab,), src, None, known=known))
            for v in range(2):
                x = rng.normal(0, 1, 8) + shift
                x[0] += 4.0 * (lab == "fire")
                x[1] += 4.0 * (lab == "smoke")
                pooled.append(x)
                row_i.append(i)
                view.append(v)
                if known[0]:
                    n_view = len(row_i) - 1
                    cnt = rng.integers(0, 4, 6).astype(np.float32)
                    f = rng.normal(0, 0.1, (6, 8))
                    f[:, 2] = cnt
                    cell_row.append(np.full(6, n_view))
                    cell_feat.append(f)
                    c = np.zeros((6, len(COUNT_CLASSES)), np.float32)
                    c[:, 0] = cnt
                    cell_count.append(c)
    feats = {
        "row": np.array(row_i), "view": np.array(view), "pooled": np.array(pooled, np.float32),
        "cell_row": np.concatenate(cell_row), "cell_feat": np.concatenate(cell_feat).astype(np.float16),
        "cell_count": np.concatenate(cell_count),
    }  # fmt: skip
    return rows, feats


def test_leave_one_source_out_on_a_separable_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loso, "L2", 3e-3)  # 8 clean dimensions need little shrinkage (2560 noisy ones need more)
    rows, feats = synthetic()
    r = evaluate(rows, feats)
    assert set(r["per_source"]) == {"a", "b", "c", "d", "e"}
    # fire is learnable out-of-source (a <-> b), smoke is not (only c has it): LOSO says so
    for s in ("a", "b"):
        assert r["per_source"][s]["fire"]["auc"] > 0.9 and r["per_source"][s]["fire"]["f1"] > 0.6
    assert r["per_source"]["c"]["smoke"]["recall"] == 0.0
    assert r["pooled"]["normal_false_alarm_rate"] <= 0.1
    for s in ("d", "e"):
        assert r["counts"]["person"][s]["mape"] < 0.15
    assert set(HAZARDS) <= set(r["pooled"])


def make_folder(root: Path) -> Path:
    """Three sources of generated photos: orange flame-like blobs (fire), grey veils (smoke), plain streets."""
    rng = np.random.default_rng(0)
    rows = []
    for src in ("s1", "s2", "s3"):
        for k in range(6):
            for lab in ("fire", "normal"):
                img = scene(int(rng.integers(1 << 30)), 144, 256)
                if lab == "fire":
                    for _ in range(3):
                        c = (int(rng.integers(30, 226)), int(rng.integers(30, 114)))
                        cv2.ellipse(img, c, (22, 30), 0, 0, 360, (0, 140, 255), -1)
                        cv2.ellipse(img, c, (10, 16), 0, 0, 360, (120, 230, 255), -1)
                (root / lab).mkdir(parents=True, exist_ok=True)
                name = f"{lab}/{src}_{k}.jpg"
                cv2.imwrite(str(root / name), img)
                rows.append({"file": name, "label": lab, "count": ""})
    with open(root / "MANIFEST.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, ["file", "label", "count"])
        w.writeheader()
        w.writerows(rows)
    return root


def test_by_source_end_to_end(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "set")
    out = io.StringIO()
    r = run_by_source(root, tmp_path / "cache", views=1, stream=out)
    text = out.getvalue()
    for s in ("s1", "s2", "s3"):
        assert f"[{s}]" in text
        assert r["per_source"][s]["fire"]["f1"] >= 0.8  # orange blobs on one source generalise to the others
    assert "fire F1 by source: worst" in text
    assert (tmp_path / "cache").is_dir()  # features cached outside the image folder


def test_pantau_eval_by_source_cli(tmp_path: Path) -> None:
    """The command a user types: per-source lines and worst/mean from a child process with single-threaded BLAS."""
    import subprocess
    import sys

    root = make_folder(tmp_path / "set")
    cmd = [sys.executable, "-m", "orchestration.cli", "eval", str(root), "--by-source", "--views", "1"]
    r = subprocess.run([*cmd, "--cache", str(tmp_path / "c")], capture_output=True, text=True, timeout=600, check=False)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "[s1]" in r.stdout and "fire F1 by source: worst" in r.stdout
    bad = subprocess.run([*cmd, "--backbone", "lite9"], capture_output=True, text=True, timeout=120, check=False)
    assert bad.returncode != 0
