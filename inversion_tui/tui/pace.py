"""The time left in a pass or a training step, as the header shows it: it must fall as the clock
runs. Pure Python, so it is tested without a screen.

Work arrives in units (a batch's tasks, a training step) that can each take minutes on a CPU.
The old estimate, elapsed / done * left, grew between two units: the elapsed time rose while the
count of units done stood still, so the header counted up. Here the pace is measured only when a
unit ends, and the estimate made then counts down with the clock until the next unit ends. Time
the work stands still (paused, a train-now step inside a pass) counts neither as pace nor as
time spent. A pass starts from the pace of the pass before it, so a pass of one batch (the
README's first example) shows its time left from its start, once the run's first batch is done.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Pace:
    started: float  # when the pass or the step began (or was taken up again, on resume)
    total: int = 0  # units in it (tasks, training steps)
    base: int = 0  # units already done when it began: a resumed pass's restored batches
    done: int = 0
    marked: float = 0.0  # when `done` last changed
    held_at: float | None = None  # the work stands still since then
    prior: float | None = None  # seconds a unit took in the work before (the last pass), used until
    # one of this one's units ends: a pass of one batch has no unit of its own to measure

    def __post_init__(self) -> None:
        self.done, self.marked = max(self.done, self.base), self.started

    def mark(self, done: int, total: int, now: float) -> None:
        """`done` units of `total` are finished, now."""
        self.done, self.total, self.marked = done, total, now

    def hold(self, now: float) -> None:
        if self.held_at is None:
            self.held_at = now

    def release(self, now: float) -> None:
        """The work goes on: the time it stood still is taken out of the pace and the countdown."""
        if self.held_at is not None:
            stood = now - self.held_at
            self.started, self.marked, self.held_at = self.started + stood, self.marked + stood, None

    def per_unit(self) -> float | None:
        """Seconds per unit measured so far; before the first unit ends, the prior pace (None
        without one)."""
        if self.done <= self.base:
            return self.prior
        return (self.marked - self.started) / (self.done - self.base)

    def left(self, now: float) -> float | None:
        """Seconds left: the estimate at the last mark, less the time since. None before the
        first unit ends, after the last, and once the running unit has taken longer than the
        estimate (it is slower than those before it: no figure would be honest)."""
        per_unit = self.per_unit()
        if per_unit is None or self.total <= self.done:
            return None
        return self._less_time_since(per_unit * (self.total - self.done), now)

    def unit_left(self, now: float, units: int) -> float | None:
        """Seconds left in the running unit of `units` (a batch of several tasks) at the pace so
        far; None as `left` says."""
        per_unit = self.per_unit()
        return None if per_unit is None else self._less_time_since(per_unit * units, now)

    def _less_time_since(self, estimate: float, now: float) -> float | None:
        now = self.held_at if self.held_at is not None else now
        left = estimate - (now - self.marked)
        return left if left > 0 else None
