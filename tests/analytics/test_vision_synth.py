"""Synthetic street floods and hard negatives (training/synth.py) and how leave-one-source-out treats them."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from analytics.vision.training import synth as S
from analytics.vision.training.dataset import Row, group_of, is_synthetic, with_synthetic
from analytics.vision.training.loso import PooledStats, evaluate, summary_lines
from tests.analytics.test_vision_training import synthetic


def street(h: int = 180, w: int = 320, seed: int = 0) -> np.ndarray:
    """A textured 'road scene': sky band, buildings, a grey road with lane marks."""
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w, 3), np.uint8)
    img[: h // 3] = (200, 170, 140)
    for x in range(0, w, 24):
        cv2.rectangle(img, (x, h // 5), (x + 18, h // 2), [int(v) for v in rng.integers(60, 200, 3)], -1)
    img[h // 2 :] = (95, 95, 100)
    for y in range(h // 2 + 10, h, 22):
        for x in range(0, w, 40):
            cv2.line(img, (x, y), (x + 20, y), (235, 235, 235), 2)
    noise = rng.normal(0, 6, img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def changed_rows(a: np.ndarray, b: np.ndarray, tol: float = 6.0) -> np.ndarray:
    return np.abs(a.astype(float) - b.astype(float)).mean(axis=(1, 2)) > tol


@pytest.mark.parametrize("depth", [0.0, 0.5, 1.0])
def test_flood_fills_the_scene_below_a_waterline_and_leaves_the_top_dry(depth: float) -> None:
    img = street()
    out = S.street_flood(img, np.random.default_rng(1), depth=depth)
    assert out.shape == img.shape and out.dtype == np.uint8
    rows = changed_rows(img, out)
    h = img.shape[0]
    assert not rows[: int(0.25 * h)].any()  # the waterline never rises above ~0.35 of the height
    assert rows[int(0.92 * h) :].all()  # the nearest part of the road is under water
    # lane marks vanish under murky water: less edge energy where it is deep
    g0 = cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.CV_32F)[int(0.9 * h) :]
    g1 = cv2.Laplacian(cv2.cvtColor(out, cv2.COLOR_BGR2GRAY), cv2.CV_32F)[int(0.9 * h) :]
    assert float(np.abs(g1).mean()) < 0.8 * float(np.abs(g0).mean())


def test_deeper_water_covers_more_of_the_scene() -> None:
    img = street()
    cover = [changed_rows(img, S.street_flood(img, np.random.default_rng(2), depth=d)).mean() for d in (0, 0.5, 1)]
    assert cover[0] < cover[1] < cover[2]


def test_water_fills_the_picture_not_the_letterbox_bars() -> None:
    img = np.zeros((240, 320, 3), np.uint8)
    img[40:200] = street(160, 320)
    assert S.content_box(img) == (40, 200, 0, 320)
    out = S.synthesise("flood", img, np.random.default_rng(3))
    assert not out[:40].any() and not out[200:].any()
    assert changed_rows(img[40:200], out[40:200]).any()


def test_wet_road_is_not_a_water_body() -> None:
    """The hard negative keeps the road's structure (lane marks stay) where the flood hides it."""
    img = street()
    h = img.shape[0]
    lap = [
        float(np.abs(cv2.Laplacian(cv2.cvtColor(x, cv2.COLOR_BGR2GRAY), cv2.CV_32F)[int(0.6 * h) :]).mean())
        for x in (img, S.wet_road(img, np.random.default_rng(4)), S.street_flood(img, np.random.default_rng(4), 1.0))
    ]
    assert lap[1] > 0.6 * lap[0] > lap[2]


@pytest.mark.parametrize("kind", list(S.KINDS))
def test_every_kind_is_seeded(kind: str) -> None:
    img = street()
    a = S.synthesise(kind, img, np.random.default_rng(7))
    b = S.synthesise(kind, img, np.random.default_rng(7))
    assert np.array_equal(a, b) and not np.array_equal(a, img)


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError):
        S.synthesise("lava", street(), np.random.default_rng(0))


def test_synthetic_rows_come_from_dry_street_images_only() -> None:
    rows = [
        Row("normal/hwy_1.jpg", ("normal",), "hwy", None),
        Row("normal/intel2_1.jpg", ("normal",), "intel2", None),  # indoor: no street to flood
        Row("fire/fsy_1.jpg", ("fire",), "fsy", None),
        Row("normal/atl_1.jpg", ("normal",), "atl", None),
    ]
    out = with_synthetic(rows)
    extra = out[len(rows) :]
    assert {(r.source, r.labels, r.synth) for r in extra} == {
        (f"{p}~{k}", (lab,), k) for p in ("hwy", "atl") for k, lab in S.KINDS.items()
    }
    assert all(group_of(r.source) in ("hwy", "atl") and is_synthetic(r.source) for r in extra)
    assert not any(is_synthetic(r.source) for r in rows)


def with_synthetic_floods() -> tuple[list[Row], dict[str, np.ndarray]]:
    """The separable toy problem plus synthetic floods (feature 3) made from sources a and b."""
    rows, feats = synthetic()
    rng = np.random.default_rng(9)
    pooled, row_i, view = [feats["pooled"]], [feats["row"]], [feats["view"]]
    for parent in ("a", "b"):
        for _ in range(40):
            i = len(rows)
            rows.append(Row(f"normal/{parent}_{i}.jpg", ("flood",), f"{parent}~flood", None, synth="flood"))
            for v in range(2):
                x = rng.normal(0, 1, 8)
                x[3] += 4.0
                pooled.append(x[None].astype(np.float32))
                row_i.append(np.array([i]))
                view.append(np.array([v]))
    feats = dict(feats)
    feats["pooled"] = np.concatenate(pooled)
    feats["row"] = np.concatenate(row_i)
    feats["view"] = np.concatenate(view)
    return rows, feats


def test_a_synthetic_source_is_held_out_with_its_parent_and_reported_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    from analytics.vision.training import loso

    monkeypatch.setattr(loso, "L2", 3e-3)
    rows, feats = with_synthetic_floods()
    stats = PooledStats(rows, feats)
    syn_views = np.array([is_synthetic(rows[i].source) for i in feats["row"]])
    assert set(stats.src[syn_views]) == {"a", "b"}  # the fold unit of a~flood is a
    r = evaluate(rows, feats)
    # a's synthetic floods are scored by heads trained on b's synthetic floods (and never on a's)
    assert r["per_source"]["a~flood"]["flood"]["recall"] > 0.6
    assert r["synthetic"]["flood"]["f1"] > 0.6
    # real figures ignore the renderings: no real flood exists, so no real flood F1
    assert r["pooled"]["flood"]["f1"] in (None, 0.0)
    text = "\n".join(summary_lines(r))
    assert "SYNTHETIC street floods" in text
    assert not any(line.startswith("flood F1 by source") for line in text.splitlines())
