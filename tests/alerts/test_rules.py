from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alerts.models import Level
from alerts.rules import (
    DEFAULT_RULES,
    HazardRule,
    Observation,
    RuleState,
    evaluate,
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


def test_scored_hazards_follow_the_confirmed_level() -> None:
    """No second threshold: the alert opens, escalates, de-escalates and resolves exactly when the level does."""
    levels = [None, "Normal", "Waspada", "Waspada", "Awas", None, "Siaga", "Normal", "Awas"]
    st, got = RuleState(), []
    for i, lv in enumerate(levels):
        row = {"camera_id": "c", "captured_at": T0 + timedelta(seconds=5 * i), "smoke": 0.5, "level_smoke": lv}
        for o in observations(row):
            if o.hazard == "smoke":
                st, d = evaluate(st, o, DEFAULT_RULES["smoke"])
                if d:
                    got.append((i, d.action, d.level.label))
    # no cooldown: a hazard back within minutes is announced at once (the level engine already damps flicker)
    assert got == [(2, "open", "Waspada"), (4, "update", "Awas"), (6, "update", "Siaga"), (7, "resolve", "Normal"),
                   (8, "open", "Awas")]  # fmt: skip


@pytest.mark.parametrize(
    ("row", "hazards"),
    [
        (
            {"fire": 0.1, "smoke": 0.9, "flood": 0.2, "crowd": 0.3, "health": "ok", "level_fire": "Normal",
             "level_smoke": "Siaga", "level_flood": "Normal", "level_crowd": "Normal"},
            {"camera": None, "fire": "Normal", "smoke": "Siaga", "flood": "Normal", "crowd": "Normal"},
        ),  # smoke is its own hazard, never folded into fire
        # an unhealthy frame: only confirmed levels travel on (the engine froze them)
        ({"fire": None, "health": "frozen", "level_fire": "Siaga"}, {"camera": None, "fire": "Siaga"}),
        ({"health": "offline"}, {"camera": None}),
        ({"flood": 0.5}, {"camera": None}),  # a score without a level (warming up) changes nothing
    ],
)  # fmt: skip
def test_observations(row: dict, hazards: dict[str, str | None]) -> None:
    obs = observations({"camera_id": "c", "captured_at": T0, **row})
    assert {o.hazard: (o.level.label if o.level is not None else None) for o in obs} == hazards


def test_level_parse() -> None:
    assert Level.parse("siaga") == Level.SIAGA and Level.parse(None) == Level.NORMAL
    with pytest.raises(ValueError):
        Level.parse("merah")
