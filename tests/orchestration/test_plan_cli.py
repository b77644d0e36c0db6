"""`pantau plan --weight LAYER=VALUE`: layer weights from the command line (public spaces among them)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.cli import parse_weights

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([], None),
        (["public_space=0.2"], {"public_space": 0.2}),
        (["public_space=0", "population = 2"], {"public_space": 0.0, "population": 2.0}),
        (["public_space=0", "flood_2017=1.5"], {"public_space": 0.0, "flood_2017": 1.5}),
    ],
)
def test_parse_weights(items: list[str], expected: dict[str, float] | None) -> None:
    assert parse_weights(items) == expected


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("parks=1", "expected LAYER=VALUE"),
        ("public_space", "expected LAYER=VALUE"),
        ("public_space=lots", "is not a number"),
        ("public_space=-1", "must be >= 0"),
    ],
)
def test_parse_weights_rejects(item: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_weights([item])


def _change_pp(out: str, layer: str) -> float:
    m = re.search(rf"│ {layer}\s+│[^│]+│[^│]+│ ([+-]?[\d.]+) pp", out)
    assert m, out[-3000:]
    return float(m.group(1))


def test_plan_weight_option_steers_sites_towards_public_spaces() -> None:
    def plan(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "orchestration.cli", "plan", "--from-files", "-n", "3", *args],
            cwd=ROOT, capture_output=True, text=True, timeout=600, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
        )  # fmt: skip

    heavy = plan("--weight", "public_space=20")
    assert heavy.returncode == 0, heavy.stderr[-3000:]
    # with public spaces dominating the weights, the three sites gain more public-space coverage than any other layer
    gains = {layer: _change_pp(heavy.stdout, layer) for layer in ("population", "flood_2024", "public_space")}
    assert gains["public_space"] == max(gains.values()) > 0
    bad = plan("--weight", "parks=1")
    assert bad.returncode == 2
    assert "expected LAYER=VALUE" in bad.stdout + bad.stderr
