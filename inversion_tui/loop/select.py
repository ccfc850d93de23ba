"""Selection: which scored candidates join the accepted pool, and why the others do not.

Pure over a list of candidates, so a threshold change can recompute a whole cycle's
acceptance from stored scores with no model call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence


class Selectable(Protocol):
    task: str
    command: str
    score: float
    flags: tuple[str, ...]


def normalize_command(command: str) -> str:
    return " ".join(command.split())


@dataclass(frozen=True)
class Selector:
    """Which candidates of a pass join the accepted pool, and why the others do not.

    One rule, built from the settings and the threshold in force (it changes live), through
    which the engine, the workbench's re-thresholding and `score` all decide. Today's rule:
    score >= threshold, no guard flag (unless `allow_flagged`; an empty command never), and
    the first of its (task, normalized command) pair: training on the same pair twice would
    only weight it double. A per-task rule is another `decide` over the same pass.
    """

    threshold: float
    allow_flagged: bool = False

    @classmethod
    def from_settings(cls, settings, threshold: float | None = None) -> "Selector":
        return cls(settings.threshold if threshold is None else threshold, settings.allow_flagged)

    def blocking(self, flags: Sequence[str]) -> list[str]:
        """The flags that keep a candidate out."""
        return [f for f in flags if f == "empty" or not self.allow_flagged]

    def decide(self, candidates: Sequence[Selectable]) -> list[str | None]:
        """For each candidate, in the pass's order: None if accepted, else why not."""
        seen: set[tuple[str, str]] = set()
        reasons: list[str | None] = []
        for candidate in candidates:
            key = (candidate.task, normalize_command(candidate.command))
            blocking = self.blocking(candidate.flags)
            if blocking:
                reasons.append("flagged: " + ", ".join(blocking))
            elif candidate.score < self.threshold:
                reasons.append(f"score {candidate.score:.3f} < threshold {self.threshold:.2f}")
            elif key in seen:
                reasons.append("duplicate of an accepted candidate")
            else:
                seen.add(key)
                reasons.append(None)
        return reasons


def decide(candidates: Sequence[Selectable], threshold: float, allow_flagged: bool = False) -> list[str | None]:
    """Selector(threshold, allow_flagged).decide(candidates)."""
    return Selector(threshold, allow_flagged).decide(candidates)
