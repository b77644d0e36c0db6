"""Reconnect policy and sampling: ``Backoff`` between failed reads, ``Sampler`` for one frame per interval."""

from __future__ import annotations

import random
import time
import zlib
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Exponential reconnect backoff with jitter: ``min(max_s, base_s * factor**(n-1)) * U(1-jitter, 1+jitter)``."""

    base_s: float = 1.0
    max_s: float = 60.0
    jitter: float = 0.2
    factor: float = 2.0
    seed: int | None = None
    attempts: int = 0
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.base_s <= 0 or self.max_s < self.base_s or not 0 <= self.jitter < 1 or self.factor < 1:
            raise ValueError("need 0 < base_s <= max_s, 0 <= jitter < 1, factor >= 1")
        self._rng = random.Random(self.seed)

    def nominal(self, attempt: int) -> float:
        """Delay without jitter after ``attempt`` (>= 1) consecutive failures; 0 for ``attempt <= 0``."""
        if attempt <= 0:
            return 0.0
        exp = min(attempt - 1, 64)
        return float(min(self.max_s, self.base_s * self.factor**exp))

    def delay(self, attempt: int) -> float:
        """Jittered delay after ``attempt`` consecutive failures, within ``[nominal*(1-j), min(max_s, nominal*(1+j))]``."""
        nominal = self.nominal(attempt)
        if nominal == 0.0 or self.jitter == 0.0:
            return nominal
        return min(self.max_s, nominal * self._rng.uniform(1.0 - self.jitter, 1.0 + self.jitter))

    def failure(self) -> float:
        """Record one more failure and return how long to wait before the next try."""
        self.attempts += 1
        return self.delay(self.attempts)

    def success(self) -> None:
        """Reset after a successful read."""
        self.attempts = 0


class Sampler:
    """Per-camera sampling clock: one frame every ``interval_s`` seconds (plus optional jitter).

    Cameras get a stable phase offset in ``[0, interval_s)`` derived from their id, so a worker spreads its
    fetches over the interval instead of hitting all cameras at once.
    """

    def __init__(self, interval_s: float, *, jitter_s: float = 0.0, seed: int | None = None) -> None:
        if interval_s <= 0 or jitter_s < 0:
            raise ValueError("interval_s must be > 0 and jitter_s >= 0")
        self.interval_s = float(interval_s)
        self.jitter_s = float(jitter_s)
        self._rng = random.Random(seed)
        self._next: dict[str, float] = {}
        self._start: float | None = None

    def first_due(self, camera_id: str, now: float) -> float:
        phase = (zlib.crc32(camera_id.encode("utf-8")) % 10_000) / 10_000.0 * self.interval_s
        return now + phase

    def next_due(self, camera_id: str, now: float | None = None) -> float:
        if camera_id not in self._next:
            self._next[camera_id] = self.first_due(camera_id, time.monotonic() if now is None else now)
        return self._next[camera_id]

    def due(self, camera_id: str, now: float) -> bool:
        return now >= self.next_due(camera_id, now)

    def mark(self, camera_id: str, now: float) -> float:
        """Record a sample taken at ``now``; returns the next due time (never in the past)."""
        prev = self._next.get(camera_id, now)
        nxt = prev + self.interval_s
        if nxt <= now:  # fell behind: skip missed slots, do not burst
            nxt = now + self.interval_s
        if self.jitter_s:
            nxt += self._rng.uniform(0.0, self.jitter_s)
        self._next[camera_id] = nxt
        return nxt

    def delay_until_due(self, camera_id: str, now: float) -> float:
        return max(0.0, self.next_due(camera_id, now) - now)
