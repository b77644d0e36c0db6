"""`pantau eval` on a tiny labelled folder generated in tmp_path."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from vision_synth import flame_blob, street

from analytics.evaluation import clip_metrics, evaluate_clip, main, prf, read_manifest, roc_auc, run_eval


def make_folder(root: Path) -> Path:
    rng = np.random.default_rng(0)
    rows = []
    for i in range(3):
        cv2.imwrite(str(root / f"fire_{i}.jpg"), flame_blob(street(i), rng, (160, 60), 60))
        rows.append({"file": f"fire_{i}.jpg", "label": "fire", "count": "", "source": "synth"})
        cv2.imwrite(str(root / f"normal_{i}.jpg"), street(10 + i))
        rows.append({"file": f"normal_{i}.jpg", "label": "normal", "count": "0", "source": "synth"})
    cv2.imwrite(str(root / "crowd_0.jpg"), street(20))
    rows.append({"file": "crowd_0.jpg", "label": "crowd;smoke", "count": "5", "source": "other"})
    (root / "broken.jpg").write_bytes(b"not a jpeg")
    rows.append({"file": "broken.jpg", "label": "fire", "count": "", "source": "synth"})
    rows.append({"file": "missing.jpg", "label": "smoke", "count": "", "source": "synth"})
    cv2.imwrite(str(root / "weird.jpg"), street(30))
    rows.append({"file": "weird.jpg", "label": "tornado", "count": "", "source": "synth"})
    with open(root / "MANIFEST.csv", "w", newline="") as fh:
        wr = csv.DictWriter(fh, fieldnames=["file", "label", "count", "source"])
        wr.writeheader()
        wr.writerows(rows)
    return root


def test_eval_json_schema(tmp_path: Path) -> None:
    buf = io.StringIO()
    res = run_eval(make_folder(tmp_path), json_out=True, stream=buf)
    out = json.loads(buf.getvalue())
    assert out["n_images"] == 7 == res["n_images"]
    for c in ("fire", "smoke", "flood", "crowd"):
        assert {"precision", "recall", "f1", "auc"} <= set(out["classes"][c])
    assert "normal_false_alarm_rate" in out
    assert {"mae", "mape"} <= set(out["crowd_count"])
    assert out["frames_per_s"] > 0
    img = out["images"][0]
    assert {"file", "scores", "predicted", "count"} <= set(img)
    assert set(img["scores"]) == {"fire", "smoke", "flood", "crowd"}
    reasons = {p["file"]: p["reason"] for p in out["problems"]}
    assert "unreadable" in reasons["broken.jpg"]
    assert "missing" in reasons["missing.jpg"]
    assert "unknown label" in reasons["weird.jpg"]
    assert set(out["per_source"]) == {"synth", "other"}
    assert out["per_source"]["other"]["n_images"] == 1
    assert out["crowd_count"]["n"] == 1


def test_eval_threshold_override_and_text_output(tmp_path: Path) -> None:
    buf = io.StringIO()
    res = run_eval(make_folder(tmp_path), thresholds={"fire": 1.01}, stream=buf)
    assert res["classes"]["fire"]["recall"] == 0.0
    assert "false-alarm" in buf.getvalue()
    with pytest.raises(ValueError):
        run_eval(tmp_path, thresholds={"lava": 0.5}, stream=io.StringIO())


def test_eval_split_filter(tmp_path: Path) -> None:
    root = make_folder(tmp_path)
    with open(root / "MANIFEST.csv") as fh:
        rows = list(csv.DictReader(fh))
    with open(root / "split.csv", "w", newline="") as fh:
        wr = csv.DictWriter(fh, fieldnames=[*rows[0].keys(), "split"])
        wr.writeheader()
        for i, r in enumerate(rows):
            wr.writerow({**r, "split": "test" if i < 2 else "train"})
    items, problems = read_manifest(root, root / "split.csv", "test")
    assert [it.file for it in items] == ["fire_0.jpg", "normal_0.jpg"]
    assert problems == []


def test_cli_main(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(make_folder(tmp_path)), "--json", "--threshold", "fire=0.6"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["thresholds"]["fire"] == 0.6


def test_manifest_needs_columns(tmp_path: Path) -> None:
    (tmp_path / "MANIFEST.csv").write_text("path,label\nx.jpg,fire\n")
    with pytest.raises(ValueError, match="file,label"):
        read_manifest(tmp_path)


@pytest.mark.parametrize(
    ("y", "s", "auc"),
    [
        ([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9], 1.0),
        ([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1], 0.0),
        ([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5], 0.5),
        ([0, 0, 1], [0.1, 0.6, 0.4], 0.5),
        ([1, 1, 1], [0.1, 0.2, 0.3], None),
    ],
)
def test_roc_auc(y: list[int], s: list[float], auc: float | None) -> None:
    got = roc_auc(np.array(y, bool), np.array(s))
    assert got == (pytest.approx(auc) if auc is not None else None)


@pytest.mark.parametrize(
    ("y", "p", "f1"),
    [([1, 1, 0, 0], [1, 0, 1, 0], 0.5), ([1, 1], [1, 1], 1.0), ([0, 0], [0, 0], None), ([1, 0], [0, 1], 0.0)],
)
def test_prf(y: list[int], p: list[int], f1: float | None) -> None:
    assert prf(np.array(y, bool), np.array(p, bool))["f1"] == f1


def _truth(t: float, **kw: object) -> dict[str, object]:
    base: dict[str, object] = {"t": t, "fire": False, "smoke": False, "flood_depth_class": None, "persons": 0}
    return {**base, **kw}


@pytest.mark.parametrize(
    ("truths", "health", "expect"),
    [
        # a flat grey frame is "tampered" by the frame's own health check: unknown, never reported safe
        ([_truth(0.0, fault="covered"), _truth(1.0, fault="covered")], None, {"fault_frames": 2, "unhealthy": 2}),
        # the capture side says "frozen": the analyzer must not read the frame as safe
        ([_truth(0.0, fault="frozen")], lambda f, t: "frozen", {"fault_frames": 1, "unhealthy": 1}),
        ([_truth(float(t)) for t in range(3)], None, {"fault_frames": 0, "unhealthy": 0}),
    ],
)
def test_clip_metrics_faults(truths: list[dict[str, object]], health: object, expect: dict[str, int]) -> None:
    """Clip metrics from analytics alone (no simulator): fault frames are counted, unhealthy, never safe."""
    flat = np.full((90, 160, 3), 128, np.uint8)
    frames = [(flat if tr.get("fault") else street(int(tr["t"])), tr) for tr in truths]  # type: ignore[call-overload]
    clip = evaluate_clip("cam", frames, health=health)  # type: ignore[arg-type]
    m = clip_metrics([clip], {"fire": 0.5, "smoke": 0.5, "flood": 0.5, "crowd": 0.5})
    assert m["n_frames"] == len(truths)
    assert m["fault_frames"] == expect["fault_frames"]
    assert m["fault_frames_unhealthy"] == expect["unhealthy"]
    assert m["fault_frames_reported_safe"] == 0


def test_first_alarm_times_smoke_separately_from_fire() -> None:
    """Latency uses each hazard's own confirmed level: a smoke-only clip reports smoke, never a fire alarm."""
    from types import SimpleNamespace

    from analytics.evaluation import first_alarm

    def frame(t: float, smoke: bool, level_smoke: str) -> dict:
        scores = SimpleNamespace(level_fire="Normal", level_smoke=level_smoke, level_flood="Normal")
        return {"truth": {"t": t, "fire": False, "smoke": smoke, "flood_depth_class": None}, "scores": scores}

    clip = {"frames": [frame(0, False, "Normal"), frame(2, True, "Normal"), frame(4, True, "Normal"),
                       frame(6, True, "Waspada"), frame(8, True, "Siaga")]}  # fmt: skip
    assert first_alarm(clip) == {"smoke": 4.0}
