"""Selection: which scored candidates join the accepted pool, and why the others do not.

Pure over a list of candidates, so a threshold change can recompute a whole cycle's
acceptance from stored scores with no model call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol, Sequence


class Selectable(Protocol):
    task: str
    command: str
    score: float
    flags: tuple[str, ...]


RULES = ("threshold", "best-per-task", "top-k", "keep-top")


DEFAULT_K = 2
"""top-k's k where none is given: the one default of the settings, the engine and the workbench."""

DEFAULT_KEEP_TOP = 0.5
"""keep-top's Q where none is given (issue 32's probe: the top half of tasks by their best)."""


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
    - top-k: the `k` highest-scoring of its task's (DART's fixed number per query);
    - keep-top: by rank, with no absolute floor (the threshold does not apply): the best
      unflagged candidate of each task, then only the tasks whose best ranks in the top
      `keep_top` fraction of the pass's tasks, `max(1, round(keep_top x tasks))` of them
      (rounded half up). The score's scale differs by domain (issue 32: at 0.40, 5 of 40
      pentest-style tasks passed, although the best of each was as often right as the oracle);
      its order within and across tasks is what the judge gets right.

    A task's candidates are those of the pass with the same task text (a pass generates all
    of a task's candidates in one batch). Ties keep the earlier candidate (or task).
    """

    threshold: float
    allow_flagged: bool = False
    rule: str = "threshold"
    k: int = DEFAULT_K
    keep_top: float = DEFAULT_KEEP_TOP

    def __post_init__(self):
        if self.rule not in RULES:
            raise ValueError(f"unknown selection rule {self.rule!r} (known: {', '.join(RULES)})")
        if not 0.0 < self.keep_top <= 1.0:
            raise ValueError(f"keep-top's fraction must be in (0, 1], not {self.keep_top}")

    @classmethod
    def from_settings(cls, settings, threshold: float | None = None, rule: str | None = None) -> "Selector":
        """The one builder of the selection in force: the settings' parameters, with `threshold`
        and `rule` when changed live (the engine and the workbench both call this)."""
        return cls(settings.threshold if threshold is None else threshold, settings.allow_flagged,
                   settings.select if rule is None else rule, settings.select_k, settings.keep_top)

    @property
    def per_task(self) -> int | None:
        """How many of a task's candidates may be accepted; None: any number."""
        return {"threshold": None, "best-per-task": 1, "top-k": self.k, "keep-top": 1}[self.rule]

    @property
    def floored(self) -> bool:
        """Whether the threshold applies (every rule but keep-top)."""
        return self.rule != "keep-top"

    def describe(self) -> str:
        """The rule with its parameter, as the header and the log say it."""
        if self.rule == "top-k":
            return f"top-k (k={self.k})"
        if self.rule == "keep-top":
            return f"keep-top (Q={self.keep_top:g})"
        return self.rule

    def kept_tasks(self, tasks: int) -> int:
        """How many of a pass's `tasks` keep-top keeps: max(1, round(Q x tasks)), half up."""
        return max(1, math.floor(self.keep_top * tasks + 0.5)) if tasks else 0

    def blocking(self, flags: Sequence[str]) -> list[str]:
        """The flags that keep a candidate out."""
        return [f for f in flags if f == "empty" or not self.allow_flagged]

    def decide(self, candidates: Sequence[Selectable]) -> list[str | None]:
        """For each candidate, in the pass's order: None if accepted, else why not."""
        if self.rule == "keep-top":
            return self._keep_top(candidates)
        # Here, not at the top: the settings read RULES from this module and load no parser
        from inversion_tui.shell import normalize_command

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

    def _keep_top(self, candidates: Sequence[Selectable]) -> list[str | None]:
        reasons: list[str | None] = [None] * len(candidates)
        best: dict[str, int] = {}  # task -> its best unflagged candidate
        for i in sorted(range(len(candidates)), key=lambda i: -candidates[i].score):
            candidate = candidates[i]
            if blocking := self.blocking(candidate.flags):
                reasons[i] = "flagged: " + ", ".join(blocking)
            elif candidate.task in best:
                reasons[i] = (f"not the best of its task ({candidate.score:.3f} < "
                              f"{candidates[best[candidate.task]].score:.3f})")
            else:
                best[candidate.task] = i
        tasks = len({c.task for c in candidates})
        keep = self.kept_tasks(tasks)
        for rank, i in enumerate(sorted(best.values(), key=lambda i: (-candidates[i].score, i)), 1):
            if rank > keep:
                reasons[i] = (f"its task's best ranks {rank} of {tasks} tasks ({candidates[i].score:.3f}); "
                              f"keep-top keeps {keep}")
        return reasons


def decide(candidates: Sequence[Selectable], threshold: float, allow_flagged: bool = False) -> list[str | None]:
    """Selector(threshold, allow_flagged).decide(candidates)."""
    return Selector(threshold, allow_flagged).decide(candidates)
