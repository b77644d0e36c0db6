"""Risk fusion: smoothing, confirmation, hysteresis, unknown health, kelurahan aggregation."""

from __future__ import annotations

import math

import pytest

from analytics.levels import THRESHOLDS, HazardThresholds, Level, level_rank_sql
from analytics.risk import (
    CameraRisk,
    RiskConfig,
    RiskTracker,
    aggregate_kelurahan,
    level_rank,
)

NAN = math.nan
# no smoothing (alpha=1) so the tables read directly; confirm/release after 3 frames; hysteresis 0.1
CFG = RiskConfig(alpha=1.0, confirm_frames=3, release_frames=3,
                 policies={"fire": HazardThresholds(0.5, 0.7, 0.85, hysteresis=0.1)})  # fmt: skip


def levels(scores: list[float], cfg: RiskConfig = CFG) -> list[str | None]:
    tr = RiskTracker("cam", cfg)
    return [tr.update(float(i), {"fire": s}).levels["fire"] for i, s in enumerate(scores)]


N, W, S, A = "Normal", "Waspada", "Siaga", "Awas"


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        # confirmation: 3 frames above 0.5 before Waspada
        ([0.6, 0.6, 0.6, 0.6], [N, N, W, W]),
        # a one/two-frame spike never confirms
        ([0.9, 0.1, 0.9, 0.9, 0.1, 0.9], [N] * 6),
        # flicker around the threshold never confirms
        ([0.55, 0.45, 0.55, 0.45, 0.55, 0.45], [N] * 6),
        # straight to the confirmed level (Awas needs 3 frames >= 0.85)
        ([0.9, 0.9, 0.9], [N, N, A]),
        # mixed run: the level confirmed is the lowest seen in the run
        ([0.9, 0.72, 0.9], [N, N, S]),
        # hysteresis: 0.45 is below 0.5 but not below 0.4 -> stays Waspada
        ([0.6, 0.6, 0.6, 0.45, 0.45, 0.45, 0.45], [N, N, W, W, W, W, W]),
        # release after 3 frames below 0.4
        ([0.6, 0.6, 0.6, 0.3, 0.3, 0.3, 0.3], [N, N, W, W, W, N, N]),
        # release steps down one level at a time
        ([0.9, 0.9, 0.9, 0.65, 0.65, 0.65], [N, N, A, A, A, S]),
        # unknown frames (NaN) neither confirm nor release
        ([0.6, NAN, 0.6, NAN, 0.6, 0.1, NAN, 0.1, NAN, 0.1], [N, N, N, N, W, W, W, W, W, N]),
    ],
)
def test_level_sequences(scores: list[float], expected: list[str]) -> None:
    assert levels(scores) == expected


def test_smoothing_damps_a_single_spike() -> None:
    cfg = RiskConfig(alpha=0.3, confirm_frames=1, policies={"fire": HazardThresholds(0.5, 0.7, 0.85)})
    assert levels([0.0, 1.0, 0.0, 0.0], cfg) == [N, N, N, N]


def test_changes_are_explained() -> None:
    tr = RiskTracker("cam-7", CFG)
    changes = []
    for i, s in enumerate([0.9, 0.9, 0.9, 0.1, 0.1, 0.1]):
        changes += tr.update(float(i), {"fire": s}, evidence={"fire": "flame 0.020"}).changes
    assert [(c.from_level, c.to_level) for c in changes] == [(N, A), (A, N)]
    assert "cam-7 fire: Normal -> Awas" in changes[0].explanation
    assert "flame 0.020" in changes[0].explanation
    assert ">= 0.85" in changes[0].explanation


def test_unhealthy_camera_is_unknown_not_normal() -> None:
    tr = RiskTracker("cam", CFG)
    st = tr.update(0.0, {"fire": 0.1})
    assert st.level == N
    st = tr.update(1.0, {}, health="offline")
    assert st.level is None
    for i in range(3):
        st = tr.update(2.0 + i, {}, health="offline")
    assert st.stale


def test_worst_hazard_wins() -> None:
    cfg = RiskConfig(alpha=1.0, confirm_frames=1)
    st = RiskTracker("c", cfg).update(0.0, {"fire": 0.55, "flood": 0.9, "smoke": 0.0, "crowd": 0.0})
    assert (st.level, st.hazard) == (A, "flood")


@pytest.mark.parametrize(
    "bad", [dict(alpha=0), dict(confirm_frames=0), dict(context_confirm_frames=0), dict(context_confirm_frames=5)]
)
def test_config_validation(bad: dict) -> None:
    with pytest.raises(ValueError):
        RiskConfig(**bad)


@pytest.mark.parametrize("bad", [(0.7, 0.5, 0.9, 0.1), (0.5, 0.7, 0.9, 0.6), (0.0, 0.5, 0.9, 0.1)])
def test_threshold_validation(bad: tuple) -> None:
    with pytest.raises(ValueError):
        HazardThresholds(*bad)


def test_one_table_for_four_hazards() -> None:
    assert set(THRESHOLDS) == {"fire", "smoke", "flood", "crowd"}
    assert RiskConfig().policies == dict(THRESHOLDS)
    assert THRESHOLDS["fire"] != THRESHOLDS["crowd"]


def test_context_shortens_confirmation_and_is_explained() -> None:
    cfg = RiskConfig(alpha=1.0, confirm_frames=3, context_confirm_frames=1)
    plain, backed = RiskTracker("c", cfg), RiskTracker("c", cfg)
    a = [plain.update(float(i), {"flood": 0.9}).levels["flood"] for i in range(3)]
    b = [backed.update(float(i), {"flood": 0.9}, context={"flood": "gate Manggarai Siaga 2"}) for i in range(3)]
    assert a == [N, N, A]  # image evidence alone reaches Awas: no context is never a veto
    assert [s.levels["flood"] for s in b] == [A, A, A]
    assert "gate Manggarai Siaga 2" in b[0].changes[0].explanation


def test_context_never_raises_a_level_the_image_does_not_show() -> None:
    tr = RiskTracker("c", RiskConfig(alpha=1.0))
    states = [tr.update(float(i), {"flood": 0.1}, context={"flood": "BMKG warning"}) for i in range(5)]
    assert {s.levels["flood"] for s in states} == {N}


def test_hazard_levels_per_frame() -> None:
    tr = RiskTracker("c", RiskConfig(alpha=1.0, confirm_frames=1))
    st = tr.update(0.0, {"fire": 0.9, "smoke": 0.1, "flood": math.nan})
    assert st.hazard_levels == {"fire": A, "smoke": N, "flood": None, "crowd": None}
    assert st.level == A
    st = tr.update(1.0, {}, health="offline")
    assert st.hazard_levels == {"fire": A, "smoke": None, "flood": None, "crowd": None}


@pytest.mark.parametrize("lv", list(Level))
def test_level_rank_sql_matches_the_enum(lv: Level) -> None:
    import duckdb

    assert duckdb.sql(f"SELECT {level_rank_sql('x')} FROM (SELECT '{lv.label}' AS x)").fetchone() == (int(lv),)


@pytest.mark.parametrize(
    ("cams", "expected"),
    [
        ([CameraRisk("a", "k1", N, None), CameraRisk("b", "k1", S, "flood")], (S, "flood")),
        ([CameraRisk("a", "k1", N, None), CameraRisk("b", "k1", N, None)], (N, None)),
        ([CameraRisk("a", "k1", None, None, "offline")], (None, None)),
        ([CameraRisk("a", "k1", None, None, "offline"), CameraRisk("b", "k1", N, None)], (N, None)),
        ([CameraRisk("a", "k1", W, "fire", "offline"), CameraRisk("b", "k1", N, None)], (W, "fire")),
    ],
)
def test_kelurahan_aggregation(cams: list[CameraRisk], expected: tuple) -> None:
    k = aggregate_kelurahan(cams)["k1"]
    assert (k.level, k.hazard) == expected
    assert k.cameras == len(cams)
    assert k.explanation.startswith("k1")


def test_aggregation_groups_by_kelurahan() -> None:
    out = aggregate_kelurahan([CameraRisk("a", "k1", A, "fire"), CameraRisk("b", "k2", N, None)])
    assert out["k1"].level == A and out["k2"].level == N


@pytest.mark.parametrize(("lv", "rank"), [(None, -1), ("Normal", 0), ("Waspada", 1), ("Siaga", 2), ("Awas", 3)])
def test_level_rank(lv: str | None, rank: int) -> None:
    assert level_rank(lv) == rank


@pytest.mark.parametrize(
    ("score", "depth", "level"),
    [(0.3, None, N), (0.55, 1, W), (0.55, 2, W), (0.55, 3, S), (0.6, 4, A), (0.95, 2, A)],
)
def test_measured_depth_is_image_evidence_of_the_flood_level(score: float, depth: int | None, level: str) -> None:
    from analytics.levels import flood_evidence

    tr = RiskTracker("c", RiskConfig(alpha=0.5))
    states = [tr.update(float(i), {"flood": flood_evidence(score, depth)}) for i in range(12)]
    assert states[-1].levels["flood"] == level
