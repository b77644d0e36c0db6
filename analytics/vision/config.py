"""Per-camera vision configuration: regions, calibration, reference marks, thresholds and plugins."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# PetaBencana flood depth classes: 1 unknown depth, 2 = 10-70 cm, 3 = 71-150 cm, 4 = > 150 cm.
DEPTH_UNKNOWN = 1


def depth_class(depth_cm: float | None) -> int:
    """Depth in cm -> PetaBencana class (1 when depth is unknown)."""
    if depth_cm is None:
        return DEPTH_UNKNOWN
    if depth_cm <= 70:
        return 2
    if depth_cm <= 150:
        return 3
    return 4


@dataclass(frozen=True)
class ReferenceMark:
    """A calibrated mark (painted line, kerb, pole band) at a known height above the dry road.

    ``box`` is (x0, y0, x1, y1) as fractions of the frame; the mark reads "submerged" when water covers it.
    """

    name: str
    box: tuple[float, float, float, float]
    height_cm: float

    def __post_init__(self) -> None:
        x0, y0, x1, y1 = self.box
        if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
            raise ValueError(f"reference mark {self.name!r}: box must be fractions with x0<x1, y0<y1")
        if self.height_cm < 0:
            raise ValueError(f"reference mark {self.name!r}: negative height")


@dataclass(frozen=True)
class Thresholds:
    """Operating thresholds on detector scores (a score >= threshold is a positive)."""

    fire: float = 0.5
    smoke: float = 0.5
    flood: float = 0.5
    crowd: float = 0.5

    def as_dict(self) -> dict[str, float]:
        return {"fire": self.fire, "smoke": self.smoke, "flood": self.flood, "crowd": self.crowd}


@dataclass(frozen=True)
class CameraVisionConfig:
    """What the detectors know about one camera.

    Attributes:
        road_roi: polygon of the road surface as (x, y) fractions; flood is measured inside it.
        walk_roi: polygon of the walkable zone for crowd density (defaults to the whole frame).
        walk_area_m2: real area of ``walk_roi`` in m^2 (None -> density and Fruin level stay NULL).
        person_area_frac: typical area of one standing person as a fraction of the frame, for a person whose
            feet are at ``person_ref_y`` (for foreground-area density); default suits a street view.
        person_ref_y, horizon_y: perspective of the ground plane as fractions of the frame height: a person's
            size shrinks linearly towards the horizon, so the area at feet row y is ``person_area_frac *
            ((y - horizon_y) / (person_ref_y - horizon_y)) ** 2`` (a camera looking across a street: horizon near
            the top; person_ref_y None: the same size everywhere).
        crowd_occlusion: persons per person-area of merged foreground (people in a crowd hide parts of each other,
            so a crowd shows less foreground than the sum of its members).
        reference_marks: calibrated marks for flood depth.
        crowd_capacity: persons at which the crowd score reaches 1 when density is uncalibrated.
        thresholds: operating thresholds.
        plugins: extra ONNX plugin configs (see :class:`analytics.vision.plugins.OnnxPluginConfig`).
        head_every: run the learned scene head on every n-th frame of a camera (reusing its last result in
            between); the physical/temporal features run on every frame.
    """

    road_roi: Sequence[tuple[float, float]] = ((0.0, 0.55), (1.0, 0.55), (1.0, 1.0), (0.0, 1.0))
    walk_roi: Sequence[tuple[float, float]] | None = None
    walk_area_m2: float | None = None
    person_area_frac: float = 0.004
    person_ref_y: float | None = 1.0
    crowd_occlusion: float = 1.3
    horizon_y: float = 0.0
    reference_marks: Sequence[ReferenceMark] = ()
    crowd_capacity: float = 40.0
    thresholds: Thresholds = field(default_factory=Thresholds)
    plugins: Sequence[Mapping[str, Any]] = ()
    head_every: int = 2

    def __post_init__(self) -> None:
        if self.head_every < 1:
            raise ValueError("head_every must be >= 1")
        for name in ("road_roi", "walk_roi"):
            poly = getattr(self, name)
            if poly is None:
                continue
            if len(poly) < 3:
                raise ValueError(f"{name} needs at least 3 points")
            for x, y in poly:
                if not (0 <= x <= 1 and 0 <= y <= 1):
                    raise ValueError(f"{name} points must be fractions in [0, 1], got {(x, y)}")
        if self.walk_area_m2 is not None and self.walk_area_m2 <= 0:
            raise ValueError("walk_area_m2 must be positive")
        if self.crowd_occlusion < 1.0:
            raise ValueError("crowd_occlusion must be >= 1")
        if not 0 < self.person_area_frac < 1:
            raise ValueError("person_area_frac must be in (0, 1)")
        if self.person_ref_y is not None and not -1.0 <= self.horizon_y < self.person_ref_y <= 1.0:
            raise ValueError("need -1 <= horizon_y < person_ref_y <= 1")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CameraVisionConfig:
        """Build from a camera registry ``zones`` JSON object (unknown keys are ignored)."""
        marks = tuple(
            ReferenceMark(str(m["name"]), tuple(m["box"]), float(m["height_cm"]))  # type: ignore[arg-type]
            for m in d.get("reference_marks", ())
        )
        th = Thresholds(**{k: float(v) for k, v in d.get("thresholds", {}).items()})
        kw: dict[str, Any] = {"reference_marks": marks, "thresholds": th, "plugins": tuple(d.get("plugins", ()))}
        for k in ("road_roi", "walk_roi"):
            if d.get(k) is not None:
                kw[k] = tuple(tuple(p) for p in d[k])
        for k in ("walk_area_m2", "person_area_frac", "crowd_capacity", "person_ref_y", "horizon_y", "crowd_occlusion"):
            if d.get(k) is not None:
                kw[k] = float(d[k])
        if d.get("head_every") is not None:
            kw["head_every"] = int(d["head_every"])
        return cls(**kw)

    @classmethod
    def from_json(cls, text: str) -> CameraVisionConfig:
        return cls.from_dict(json.loads(text))
