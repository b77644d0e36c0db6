"""The scoring switch: the vision pipeline by default, pass-through only when asked for, never as a silent fallback."""

from __future__ import annotations

import logging
import sys

import numpy as np
import pytest

from ingest.cameras.passthrough import PASSTHROUGH_VERSION, PassthroughAnalyzer, analyzer_factory
from ingest.cameras.registry import CameraSpec
from ingest.cameras.worker import run_worker
from warehouse.object_store import LocalObjectStore


def test_vision_is_the_default() -> None:
    from analytics.vision.pipeline import CameraAnalyzer

    assert isinstance(analyzer_factory()("cam-1"), CameraAnalyzer)


def test_passthrough_only_when_asked_for_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        analyzer = analyzer_factory("passthrough")("cam-1")
    assert isinstance(analyzer, PassthroughAnalyzer)
    assert "pass-through scoring" in caplog.text
    row = analyzer.process(np.zeros((90, 160, 3), np.uint8), 0.0).to_row()
    assert row["model_version"] == PASSTHROUGH_VERSION and row["fire"] is None


def test_unknown_scoring_is_refused() -> None:
    with pytest.raises(ValueError, match="scoring"):
        analyzer_factory("none")


def test_a_broken_vision_pipeline_stops_the_worker_at_start(
    tmp_path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "analytics.vision.pipeline", None)  # importing it now raises ImportError
    cams = [CameraSpec(camera_id="cam-1", stream_url="http://127.0.0.1:9/x.jpg", stream_kind="snapshot")]
    with pytest.raises(ImportError):
        run_worker(cams, LocalObjectStore(tmp_path / "store"), max_runtime_s=0.5, blur=None)
    assert not list((tmp_path / "store").rglob("*.parquet"))  # nothing captured without scoring
    assert "pass-through" not in caplog.text
