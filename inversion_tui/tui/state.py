"""What the UI knows of the run, rebuilt from engine events. Pure Python (no textual), so the
re-threshold and re-weight logic is tested without a screen and matches the engine's own
`decide` and `combine`.

Verdicts here are what the scorer says *now*, under the threshold and weights on screen, for
every candidate of the run: that is what a person debugging the scorer wants to see. What
really happened stays in the engine's history (the stats per cycle) and in `trained`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from inversion_tui.loop import events as ev
from inversion_tui.loop.candidate import Candidate
from inversion_tui.loop.control import RunControl
from inversion_tui.loop.progress import CycleRecord, Evaluation
from inversion_tui.loop.score import combine
from inversion_tui.loop.scorer_check import PassCheck, check_cycles, marks_agreement
from inversion_tui.loop.select import Selector
from inversion_tui.settings import RunSettings


@dataclass
class CandidateRow:
    """A candidate as the workbench shows it: the engine's record, and the verdict under the
    threshold and weights on screen (which a person changes), the row's number, and a mark.
    Every other field (`row.task`, `row.command`, ...) is the record's own."""

    number: int  # running number over the whole run: the table's newest-first order
    candidate: Candidate
    score: float
    accepted: bool
    reason: str | None
    trained: bool = False
    mark: str | None = None  # a person's "good" or "bad"

    @classmethod
    def of(cls, number: int, candidate: Candidate) -> "CandidateRow":
        return cls(number, candidate, candidate.score, candidate.accepted, candidate.reason, candidate.trained)

    def __getattr__(self, name: str):
        if name == "candidate":  # not set yet (copying): no recursion
            raise AttributeError(name)
        return getattr(self.candidate, name)

    @property
    def key(self) -> tuple[int, str, int]:
        return (self.cycle, self.phase, self.index)


@dataclass
class RunState:
    settings: RunSettings  # the run's: the selection's parameters, the number of cycles
    control: RunControl  # the live threshold, weights and selection rule: their one source
    rows: list[CandidateRow] = field(default_factory=list)
    history: list[CycleRecord] = field(default_factory=list)
    evaluations: list[Evaluation] = field(default_factory=list)  # held-out, cycle 0 = base
    marks: dict[tuple[int, str, int], str] = field(default_factory=dict)
    cycle: int = 0
    phase: str = "before"  # the pass running or last run
    activity: str = "loading"  # what the header shows: loading, before, training, after
    tasks_done: int = 0
    tasks_total: int = 0
    last_loss: float | None = None
    losses: list[tuple[int, float]] = field(default_factory=list)  # (cycle, loss) per training step

    @property
    def cycles(self) -> int:
        return self.settings.cycles

    @property
    def threshold(self) -> float:
        return self.control.threshold

    @property
    def weights(self) -> dict[str, float]:
        return self.control.weights

    @property
    def select(self) -> str:
        return self.control.select

    def selector(self) -> Selector:
        """The selection on screen, from the one builder the engine uses too."""
        return Selector.from_settings(self.settings, self.control.threshold, self.control.select)

    def add(self, event: ev.CandidateScored) -> CandidateRow:
        return self.add_candidate(event.candidate)

    def add_candidate(self, candidate: Candidate) -> CandidateRow:
        row = CandidateRow.of(len(self.rows) + 1, candidate)
        row.mark = self.marks.get(row.key)
        weights = self.weights
        if weights:
            row.score = combine(row.components, weights)  # weights changed on screen before it came
        self.rows.append(row)
        return row

    def pass_rows(self, cycle: int | None = None, phase: str | None = None) -> list[CandidateRow]:
        cycle = self.cycle if cycle is None else cycle
        phase = self.phase if phase is None else phase
        return sorted((r for r in self.rows if r.cycle == cycle and r.phase == phase), key=lambda r: r.index)

    def cycle_rows(self) -> list[CandidateRow]:
        return [r for r in self.rows if r.cycle == self.cycle]

    def passes(self) -> list[tuple[int, str]]:
        return sorted({(r.cycle, r.phase) for r in self.rows}, key=lambda key: (key[0], key[1] != "before"))

    def redecide(self) -> list[CandidateRow]:
        """Acceptance of every pass under the threshold and rule on screen, in the engine's order.
        Returns the rows whose verdict changed."""
        changed = []
        selector = self.selector()
        for cycle, phase in self.passes():
            rows = self.pass_rows(cycle, phase)
            for row, reason in zip(rows, selector.decide(rows)):
                accepted = reason is None
                if (accepted, reason) != (row.accepted, row.reason):
                    row.accepted, row.reason = accepted, reason
                    changed.append(row)
        return changed

    def reweight(self, weights: dict[str, float]) -> list[CandidateRow]:
        """New weights (the app sets them on the control first): every stored candidate
        re-scored from its stored components (no model call), then re-decided. Returns the
        rows whose score or verdict changed."""
        rescored = []
        for row in self.rows:
            score = combine(row.components, weights)
            if score != row.score:
                row.score = score
                rescored.append(row)
        changed = {row.number: row for row in rescored + self.redecide()}
        return sorted(changed.values(), key=lambda r: r.number)

    def mark(self, row: CandidateRow, mark: str | None) -> None:
        row.mark = mark
        if mark is None:
            self.marks.pop(row.key, None)
        else:
            self.marks[row.key] = mark

    def marks_agreement(self) -> dict[str, Any]:
        return marks_agreement(self.rows, self.marks)

    def scorer_check(self) -> list[PassCheck]:
        return check_cycles(self.rows)

    def missing_components(self) -> dict[str, int]:
        """Weighted components some candidates lack (self_rating off when they were scored), with
        how many lack each: they are scored without them, which a user should be told."""
        missing = {name: sum(r.components.get(name) is None for r in self.rows)
                   for name, weight in self.weights.items() if weight > 0}
        return {name: count for name, count in sorted(missing.items()) if count}
