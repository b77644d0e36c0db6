from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alerts.models import Level
from alerts.rules import (
    DEFAULT_RULES,
    FloodContext,
    HazardRule,
    Observation,
    RuleState,
    evaluate,
    gate_flood_score,
    gates_above_siaga,
    observations,
)

T0 = datetime(2026, 1, 15, 8, 0, tzinfo=UTC)
RULE = HazardRule(on={1: 0.5, 2: 0.7, 3: 0.85}, hysteresis=0.15, confirm_frames=3, clear_frames=3, cooldown_s=60)


def run(
    scores: list[float], rule: HazardRule = RULE, step_s: float = 5.0, state: RuleState | None = None
) -> tuple[list[tuple[int, str, str]], RuleState]:
    st = state or RuleState()
    out = []
    for i, s in enumerate(scores):
        st, d = evaluate(st, Observation("c1", "fire", T0 + timedelta(seconds=i * step_s), s), rule)
        if d is not None:
            out.append((i, d.action, d.level.label))
    return out, st


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        # flicker: crosses the threshold on alternate frames -> never confirmed
        ([0.9, 0.1] * 20, []),
        ([0.6, 0.4] * 20, []),
        # sustained -> exactly one open after 3 frames
        ([0.6] * 10, [(2, "open", "Waspada")]),
        # rising: opens at the level the streak sustained, then escalates
        ([0.6, 0.6, 0.6, 0.9, 0.9, 0.9], [(2, "open", "Waspada"), (5, "update", "Awas")]),
        # a streak 0.9, 0.6, 0.9 sustained only Waspada
        ([0.9, 0.6, 0.9], [(2, "open", "Waspada")]),
        # hysteresis: 0.4 is above 0.5 - 0.15, so a Waspada alert stays open
        ([0.6, 0.6, 0.6, 0.4, 0.4, 0.4, 0.4], [(2, "open", "Waspada")]),
        # resolved hazard closes it after clear_frames below the off threshold
        ([0.6, 0.6, 0.6, 0.1, 0.1, 0.1], [(2, "open", "Waspada"), (5, "resolve", "Normal")]),
        # flicker while open neither resolves nor escalates; sustained low resolves
        ([0.6] * 3 + [0.95, 0.1] * 10 + [0.1] * 3, [(2, "open", "Waspada"), (24, "resolve", "Normal")]),
    ],
)
def test_confirmation_and_hysteresis(scores: list[float], expected: list[tuple[int, str, str]]) -> None:
    got, _ = run(scores)
    assert got == expected


def test_flicker_opens_at_most_one_alert_and_resolve_closes_it() -> None:
    # alternate frames above/below, then a sustained period, then flicker again, then clear
    scores = [0.8, 0.2] * 10 + [0.8] * 5 + [0.8, 0.2] * 10 + [0.0] * 5
    got, st = run(scores)
    assert [a for _, a, _ in got].count("open") == 1
    assert got[-1][1] == "resolve"
    assert st.active == 0


def test_cooldown_delays_reopen() -> None:
    scores = [0.6] * 3 + [0.0] * 3 + [0.6] * 6
    got, _ = run(scores, step_s=5.0)  # resolve at t=25 s, cooldown 60 s
    assert [a for _, a, _ in got] == ["open", "resolve"]
    got2, _ = run(scores + [0.6] * 10, step_s=5.0)  # stays high past the cooldown -> reopens
    assert [a for _, a, _ in got2] == ["open", "resolve", "open"]
    assert got2[-1][0] * 5 - 25 >= 60


def test_deescalation_waits_for_cooldown_but_escalation_does_not() -> None:
    rule = HazardRule(on={1: 0.5, 2: 0.7, 3: 0.85}, confirm_frames=2, cooldown_s=30)
    got, _ = run([0.9, 0.9] + [0.5] * 8 + [0.9] * 2, rule, step_s=5.0)
    assert got[0] == (1, "open", "Awas")
    # Waspada confirmed at frame 3 (t=15) but the last notification was at t=5: waits until t>=35
    assert got[1][1:] == ("update", "Waspada") and got[1][0] * 5 - 5 >= 30
    # escalation right after (within the cooldown) is not delayed
    assert got[2] == (11, "update", "Awas")


def test_confirm_seconds() -> None:
    rule = HazardRule(on={1: 0.5}, confirm_frames=100, confirm_seconds=20)
    got, _ = run([0.7] * 10, rule, step_s=5.0)
    assert got == [(4, "open", "Waspada")]


def test_old_rows_are_ignored_and_gap_resets_streak() -> None:
    st = RuleState()
    st, _ = evaluate(st, Observation("c", "fire", T0, 0.9), RULE)
    st2, d = evaluate(st, Observation("c", "fire", T0, 0.9), RULE)
    assert d is None and st2 == st  # re-read row: no change
    st, _ = evaluate(st, Observation("c", "fire", T0 + timedelta(seconds=5), 0.9), RULE)
    st, d = evaluate(st, Observation("c", "fire", T0 + timedelta(seconds=600), 0.9), RULE)
    assert d is None and st.streak_frames == 1


def test_state_round_trips_json() -> None:
    _, st = run([0.6] * 4)
    assert RuleState.from_json(st.to_json()) == st


@pytest.mark.parametrize(
    ("ctx", "expected"),
    [
        (None, 0.6),
        (FloodContext(), 0.48),
        (FloodContext(rain=True), 0.72),
        (FloodContext(gate_above_siaga=("Manggarai",)), 0.72),
        (FloodContext(jaki_complaints=3), 0.72),
    ],
)
def test_flood_context_gating(ctx: FloodContext | None, expected: float) -> None:
    assert gate_flood_score(0.6, ctx) == pytest.approx(expected)


def test_flood_gating_changes_the_decision() -> None:
    rows = [
        {"camera_id": "c", "captured_at": T0 + timedelta(seconds=5 * i), "flood": 0.55, "health": "ok"}
        for i in range(5)
    ]

    def decisions(ctx: FloodContext) -> list[str]:
        st, out = RuleState(), []
        for r in rows:
            for o in observations(r, lambda _row: ctx):
                if o.hazard == "flood":
                    st, d = evaluate(st, o, DEFAULT_RULES["flood"])
                    if d:
                        out.append(d.action)
        return out

    assert decisions(FloodContext()) == []  # 0.55 * 0.8 = 0.44 < 0.5: not credible alone
    assert decisions(FloodContext(rain=True)) == ["open"]


@pytest.mark.parametrize(
    ("readings", "expected"),
    [
        ({}, ()),
        ({"116": 79.0}, ()),
        ({"116": 80.0}, ("Bendung Katulampa",)),
        ({"Bendung Katulampa": 250.0, "118": 199.0}, ("Bendung Katulampa",)),
        ({"118": 200.0, "129": 999.0}, ("Depok",)),  # gate 129 has no thresholds
    ],
)
def test_gates_above_siaga(readings: dict[str, float], expected: tuple[str, ...]) -> None:
    thresholds = [
        {
            "gate_id": "116",
            "name": "Bendung Katulampa",
            "siaga3_min_cm": 80.0,
            "siaga2_min_cm": 150.0,
            "siaga1_min_cm": 200.0,
        },
        {"gate_id": "118", "name": "Depok", "siaga3_min_cm": 200.0, "siaga2_min_cm": 270.0, "siaga1_min_cm": None},
        {"gate_id": "129", "name": "Cikeas", "siaga3_min_cm": None, "siaga2_min_cm": None, "siaga1_min_cm": None},
    ]
    assert gates_above_siaga(thresholds, readings) == expected


@pytest.mark.parametrize(
    ("row", "hazards"),
    [
        (
            {"fire": 0.1, "smoke": 0.9, "flood": 0.2, "crowd": 0.3, "health": "ok"},
            {"camera": 0.0, "fire": 0.9, "flood": 0.2, "crowd": 0.3},
        ),
        ({"fire": 0.9, "health": "frozen"}, {"camera": 1.0}),  # scores of an unhealthy frame are ignored
        ({"health": "offline"}, {"camera": 1.0}),
        ({"flood": 0.5, "features": '{"rain": true}'}, {"camera": 0.0, "flood": 0.6}),
    ],
)
def test_observations(row: dict, hazards: dict[str, float]) -> None:
    obs = observations({"camera_id": "c", "captured_at": T0, **row})
    assert {o.hazard: pytest.approx(o.score) for o in obs} == hazards


def test_level_parse() -> None:
    assert Level.parse("siaga") == Level.SIAGA and Level.parse(None) == Level.NORMAL
    with pytest.raises(ValueError):
        Level.parse("merah")
