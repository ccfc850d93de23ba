"""Selection: which scored candidates join the accepted pool, and why the others do not.

Pure over a list of candidates, so a threshold change can recompute a whole cycle's
acceptance from stored scores with no model call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

from inversion_tui.loop.shell import normalize_command


class Selectable(Protocol):
    task: str
    command: str
    score: float
    flags: tuple[str, ...]


RULES = ("threshold", "best-per-task", "top-k")


DEFAULT_K = 2
"""top-k's k where none is given: the one default of the settings, the engine and the workbench."""


@dataclass(frozen=True)
class Selector:
    """Which candidates of a pass join the accepted pool, and why the others do not.

    Built from the settings and the threshold in force (it changes live), and used by the
    engine, the workbench's re-deciding, `score` and the reports. Under every rule a candidate
    needs score >= threshold, no guard flag (unless `allow_flagged`; an empty command never),
    and to be the first of its (task, command) pair in the pass (the same command as
    shell.normalize_command reads it, `ls -la` as `ls -al`): training on the same pair twice would
    only weight it double. The rules:

    - threshold: that is all (one absolute cut for every task);
    - best-per-task: also the highest-scoring of its task's candidates that pass the above, so
      every task the model can do at all gives one example, the hard ones included (ReST-EM,
      expert iteration; ../shared/RESEARCH.md); the threshold is then a floor;
    - top-k: the `k` highest-scoring of its task's (DART's fixed number per query).

    A task's candidates are those of the pass with the same task text (a pass generates all
    of a task's candidates in one batch). Ties keep the earlier candidate.
    """

    threshold: float
    allow_flagged: bool = False
    rule: str = "threshold"
    k: int = DEFAULT_K

    def __post_init__(self):
        if self.rule not in RULES:
            raise ValueError(f"unknown selection rule {self.rule!r} (known: {', '.join(RULES)})")

    @classmethod
    def from_settings(cls, settings, threshold: float | None = None, rule: str | None = None) -> "Selector":
        """`threshold` and `rule` when changed live, else the settings'."""
        return cls(settings.threshold if threshold is None else threshold, settings.allow_flagged,
                   settings.select if rule is None else rule, settings.select_k)

    @property
    def per_task(self) -> int | None:
        """How many of a task's candidates may be accepted; None: any number."""
        return {"threshold": None, "best-per-task": 1, "top-k": self.k}[self.rule]

    def blocking(self, flags: Sequence[str]) -> list[str]:
        """The flags that keep a candidate out."""
        return [f for f in flags if f == "empty" or not self.allow_flagged]

    def decide(self, candidates: Sequence[Selectable]) -> list[str | None]:
        """For each candidate, in the pass's order: None if accepted, else why not."""
        reasons: list[str | None] = [None] * len(candidates)
        # Under a per-task rule a task's candidates are considered best first.
        order = sorted(range(len(candidates)), key=lambda i: -candidates[i].score) if self.per_task else \
            range(len(candidates))
        seen: set[tuple[str, str]] = set()
        taken: dict[str, list[float]] = {}
        for i in order:
            candidate = candidates[i]
            key = (candidate.task, normalize_command(candidate.command))
            blocking = self.blocking(candidate.flags)
            kept = taken.setdefault(candidate.task, [])
            if blocking:
                reasons[i] = "flagged: " + ", ".join(blocking)
            elif candidate.score < self.threshold:
                floor = "floor" if self.per_task else "threshold"
                reasons[i] = f"score {candidate.score:.3f} < {floor} {self.threshold:.2f}"
            elif key in seen:
                reasons[i] = "duplicate of an accepted candidate"
            elif self.per_task is not None and len(kept) >= self.per_task:
                best = "the best" if self.per_task == 1 else f"the {self.per_task} best"
                reasons[i] = f"not {best} of its task ({candidate.score:.3f} < {kept[-1]:.3f})"
            else:
                seen.add(key)
                kept.append(candidate.score)
        return reasons


def decide(candidates: Sequence[Selectable], threshold: float, allow_flagged: bool = False) -> list[str | None]:
    """Selector(threshold, allow_flagged).decide(candidates)."""
    return Selector(threshold, allow_flagged).decide(candidates)
