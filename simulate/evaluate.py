"""Simulator clips scored against their ground truth: the driver behind ``pantau eval --clips``.

Renders scripted :class:`simulate.scene.SimCamera` clips (fire, smoke, flood, crowd, quiet scenes and
camera faults), plays the capture worker's health check (``ingest.cameras.health``) on every frame, runs the
frames through the vision pipeline (:func:`analytics.evaluation.evaluate_clip`) and reports the frame-level
metrics of :func:`analytics.evaluation.clip_metrics`. Lives on the ingest side because it drives the simulator
and the capture health check; analytics only supplies the scoring and the pure metric functions.

Run: ``python -m simulate.evaluate [--duration 100] [--step 2.5] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from analytics.evaluation import (
    clip_metrics,
    evaluate_clip,
    first_alarm,
    format_clip_summary,
    json_default,
    parse_thresholds,
)
from analytics.levels import THRESHOLDS
from analytics.vision import MODEL_VERSION
from analytics.vision.config import CameraVisionConfig, ReferenceMark, Thresholds
from ingest.cameras.health import CameraHealth
from simulate.scene import POLE_CM_FRAC, POLE_FOOT_Y, POLE_X, Fault, Incident, Script, SimCamera

#: the road polygon of the simulator's street view (x, y fractions), as a city would draw it for a real camera
SIM_ROAD_ROI: tuple[tuple[float, float], ...] = ((0.0, 0.5), (1.0, 0.5), (1.0, 0.88), (0.0, 0.88))


def sim_reference_marks(heights_cm: Sequence[float] = (40.0, 110.0, 200.0)) -> tuple[ReferenceMark, ...]:
    """Reference marks on the simulator's gauge pole (its x, foot and height per cm come from the scene geometry),
    as a city would calibrate them on a real kerb or pole."""
    marks = []
    for cm in heights_cm:
        y = POLE_FOOT_Y - cm * POLE_CM_FRAC
        marks.append(ReferenceMark(f"pole_{int(cm)}cm", (POLE_X - 0.015, y - 0.012, POLE_X + 0.015, y + 0.012), cm))
    return tuple(marks)


def sim_vision_config(thresholds: Mapping[str, float] | None = None) -> CameraVisionConfig:
    """The vision configuration of a simulated camera: road ROI and calibrated gauge marks."""
    th = Thresholds().as_dict()
    th.update({k: float(v) for k, v in (thresholds or {}).items()})
    return CameraVisionConfig(road_roi=SIM_ROAD_ROI, reference_marks=sim_reference_marks(), thresholds=Thresholds(**th))


def capture_health() -> Callable[[np.ndarray, float], str]:
    """The capture worker's per-camera health check, as (frame, ts) -> status (one instance per camera)."""
    ch = CameraHealth()
    return lambda frame, ts: ch.observe_frame(frame, ts).status


def default_scenarios() -> list[tuple[str, dict[str, Any]]]:
    """(camera_id, script kwargs) for the standard clip set: fire, flood and crowd by day and night/rain,
    quiet day and night, and camera faults. Incidents are (kind, start_s, ramp_s, peak)."""
    return [
        ("sim-fire-day", {"incidents": [("fire", 30.0, 20.0, 0.0)]}),
        ("sim-fire-night", {"night": True, "incidents": [("fire", 30.0, 20.0, 0.0)]}),
        ("sim-flood-day", {"incidents": [("flood", 20.0, 70.0, 140.0)]}),
        ("sim-flood-rain", {"rain": True, "incidents": [("flood", 20.0, 70.0, 60.0)]}),
        ("sim-crowd-day", {"incidents": [("crowd", 20.0, 40.0, 60.0)]}),
        ("sim-quiet-day", {}),
        ("sim-quiet-night", {"night": True}),
        # normal cameras at the demo's busiest: heavy traffic (stop-and-go lanes, buses, motorbike riders) with a
        # few pedestrians, by day and at night in rain (headlights, streaks); a crowd must not be read here
        ("sim-busy-day", {"traffic": 1.4, "pedestrians": 8}),
        ("sim-busy-night-rain", {"night": True, "rain": True, "traffic": 1.4, "pedestrians": 8}),
        ("sim-faults", {"faults": [("frozen", 30.0, 50.0), ("black", 50.0, 70.0), ("covered", 70.0, 90.0)]}),
    ]


def sim_camera(cam_id: str, spec: Mapping[str, Any], seed: int, width: int, height: int) -> SimCamera:
    """A :class:`SimCamera` from one scenario spec (see :func:`default_scenarios`)."""
    kw = dict(spec)
    incidents = tuple(
        Incident(kind, start, ramp, math.inf, peak) for kind, start, ramp, peak in kw.pop("incidents", ())
    )
    faults = tuple(Fault(kind, a, b) for kind, a, b in kw.pop("faults", ()))
    return SimCamera(
        cam_id, seed=seed, width=width, height=height, script=Script(incidents=incidents, faults=faults, **kw)
    )


#: crowd score at which the level engine raises Waspada (analytics/levels.py); a frame without a crowd stays below it
CROWD_WASPADA = THRESHOLDS["crowd"].waspada


def no_crowd_metrics(clips: Sequence[Mapping[str, Any]], th: Mapping[str, float]) -> dict[str, Any]:
    """Crowd false alarms where no crowd is present (healthy frames with fewer persons than the clip's crowd size,
    warm-up included): the highest crowd score, frames at or above the Waspada score and the operating threshold,
    and the person count error there (MAE; MAPE over frames with people)."""
    scores, err, rel = [], [], []
    for c in clips:
        for r in c["frames"]:
            t, s = r["truth"], r["scores"]
            if t.get("fault") or t["persons"] >= c["crowd_persons"] or not math.isfinite(s.crowd):
                continue
            scores.append(float(s.crowd))
            if math.isfinite(s.persons):
                err.append(abs(float(s.persons) - t["persons"]))
                if t["persons"] > 0:
                    rel.append(err[-1] / t["persons"])
    arr = np.array(scores, np.float64)
    return {
        "n": len(scores),
        "max_crowd": float(arr.max()) if len(arr) else None,
        "frames_waspada": int((arr >= CROWD_WASPADA).sum()),
        "frames_over_threshold": int((arr >= th["crowd"]).sum()),
        "persons_mae": float(np.mean(err)) if err else None,
        "persons_mape": float(np.mean(rel)) if rel else None,
    }


def format_no_crowd(m: Mapping[str, Any]) -> str:
    """One summary line of :func:`no_crowd_metrics`."""
    mx = "n/a" if m["max_crowd"] is None else f"{m['max_crowd']:.2f}"
    mae = "n/a" if m["persons_mae"] is None else f"{m['persons_mae']:.2f}"
    return (
        f"frames without a crowd: {m['n']}, max crowd score {mx}, >= Waspada ({CROWD_WASPADA}) "
        f"{m['frames_waspada']}, >= threshold {m['frames_over_threshold']}, persons MAE {mae}\n"
    )


def run_eval_clip(
    duration_s: float = 100.0,
    step_s: float = 2.0,
    width: int = 640,
    height: int = 360,
    seed: int = 7,
    json_out: bool = False,
    thresholds: Mapping[str, float] | None = None,
    scenarios: Sequence[tuple[str, Mapping[str, Any]]] | None = None,
    stream: Any = None,
) -> dict[str, Any]:
    """Evaluate the detectors on simulator clips against their per-frame truth; prints JSON (``json_out``) or a
    summary to ``stream`` (default stdout) and returns the result dict."""
    cfg = sim_vision_config(thresholds)
    th = cfg.thresholds.as_dict()
    clips = []
    for cam_id, spec in scenarios or default_scenarios():
        cam = sim_camera(cam_id, spec, seed, width, height)
        times = np.arange(0.0, duration_s, step_s)

        def gen(cam: SimCamera = cam, times: np.ndarray = times) -> Iterator[tuple[np.ndarray, dict[str, Any]]]:
            for t in times:
                img, truth = cam.frame_at(float(t))
                yield img, truth.to_dict()

        clips.append(evaluate_clip(cam_id, gen(), cfg, health=capture_health()))
    result = clip_metrics(clips, th)
    result["no_crowd_frames"] = no_crowd_metrics(clips, th)
    result["per_clip"] = {c["camera_id"]: clip_metrics([c], th) for c in clips}
    result["latency_s"] = {c["camera_id"]: first_alarm(c) for c in clips}
    result["model_version"] = MODEL_VERSION
    result["settings"] = {"duration_s": duration_s, "step_s": step_s, "width": width, "height": height, "seed": seed}
    out = stream or sys.stdout
    if json_out:
        out.write(json.dumps(result, default=json_default) + "\n")
    else:
        out.write(format_clip_summary(result) + format_no_crowd(result["no_crowd_frames"]))
    return result


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="pantau eval --clips", description=__doc__)
    ap.add_argument("--duration", type=float, default=100.0, help="clip length in seconds")
    ap.add_argument("--step", type=float, default=2.5, help="seconds between sampled frames")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--threshold", action="append", default=[], help="operating threshold override, e.g. smoke=0.6")
    args = ap.parse_args(argv)
    run_eval_clip(
        args.duration, args.step, seed=args.seed, json_out=args.json, thresholds=parse_thresholds(args.threshold)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
