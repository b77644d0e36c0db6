"""Pantau vision: fire, smoke, flood and crowd detectors over camera frames (CPU, onnxruntime).

Public API: ``from analytics.vision.pipeline import CameraAnalyzer, FrameScores``.
"""

from __future__ import annotations

#: Recorded with every score: detector code version + learned-head weights version.
MODEL_VERSION = "pantau-vision-1.3+lite0mx-heads-1"

__all__ = ["MODEL_VERSION"]
