"""The time left in a pass or a training step, as the header shows it: it must fall as the clock
runs. Pure Python, so it is tested without a screen.

Work arrives in units (a batch's tasks, a training step) that can each take minutes on a CPU.
The old estimate, elapsed / done * left, grew between two units: the elapsed time rose while the
count of units done stood still, so the header counted up. Here the pace is measured only when a
unit ends, and the estimate made then counts down with the clock until the next unit ends.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Pace:
    started: float  # when the pass or the step began
    total: int = 0  # units in it (tasks, training steps)
    done: int = 0
    marked: float = 0.0  # when `done` last changed

    def mark(self, done: int, total: int, now: float) -> None:
        """`done` units of `total` are finished, now."""
        self.done, self.total, self.marked = done, total, now

    def per_unit(self) -> float | None:
        """Seconds per unit measured so far; None before the first unit ends."""
        if self.done <= 0:
            return None
        return (self.marked - self.started) / self.done

    def left(self, now: float) -> float | None:
        """Seconds left: the estimate at the last mark, less the time since. None before the
        first unit ends or after the last. Past zero it stays at zero: the running unit is
        slower than the ones before it, and no figure would be honest."""
        per_unit = self.per_unit()
        if per_unit is None or self.total <= self.done:
            return None
        return max(0.0, per_unit * (self.total - self.done) - (now - self.marked))

    def unit_left(self, now: float, units: int) -> float | None:
        """Seconds left in the running unit of `units` (a batch of several tasks) at the pace so
        far; None before the first unit ends."""
        per_unit = self.per_unit()
        if per_unit is None:
            return None
        return max(0.0, per_unit * units - (now - self.marked))
