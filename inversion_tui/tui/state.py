"""What the UI knows of the run, rebuilt from engine events. Pure Python (no textual), so the
re-threshold logic is tested without a screen and matches the engine's own `decide`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from inversion_tui.loop import events as ev
from inversion_tui.loop.select import decide


@dataclass
class CandidateRow:
    number: int  # running number over the whole run: the table's newest-first order
    cycle: int
    phase: str
    index: int  # position within its pass: the order `decide` sees
    task: str
    tool: str
    command: str
    reconstruction: str
    components: dict[str, float | None]
    score: float
    flags: tuple[str, ...]
    accepted: bool
    reason: str | None


@dataclass
class RunState:
    threshold: float
    cycles: int
    rows: list[CandidateRow] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    evaluations: list[dict[str, Any]] = field(default_factory=list)  # held-out, cycle 0 = base
    cycle: int = 0
    phase: str = "before"  # the pass running or last run: what re-thresholding applies to
    activity: str = "loading"  # what the header shows: loading, before, training, after
    tasks_done: int = 0
    tasks_total: int = 0
    last_loss: float | None = None

    def add(self, event: ev.CandidateScored) -> CandidateRow:
        row = CandidateRow(len(self.rows) + 1, event.cycle, event.phase, event.index, event.task, event.tool,
                           event.command, event.reconstruction, dict(event.components), event.score,
                           tuple(event.flags), event.accepted, event.reason)
        self.rows.append(row)
        return row

    def pass_rows(self, cycle: int | None = None, phase: str | None = None) -> list[CandidateRow]:
        cycle = self.cycle if cycle is None else cycle
        phase = self.phase if phase is None else phase
        return sorted((r for r in self.rows if r.cycle == cycle and r.phase == phase), key=lambda r: r.index)

    def cycle_rows(self) -> list[CandidateRow]:
        return [r for r in self.rows if r.cycle == self.cycle]

    def rethreshold(self, threshold: float) -> list[CandidateRow]:
        """Recompute acceptance of the running pass from stored scores (no model call), in the
        engine's order, so the UI shows what the engine will decide at its next batch.
        Returns the rows whose verdict changed."""
        self.threshold = threshold
        rows = self.pass_rows()
        changed = []
        for row, reason in zip(rows, decide(rows, threshold)):
            accepted = reason is None
            if (accepted, reason) != (row.accepted, row.reason):
                row.accepted, row.reason = accepted, reason
                changed.append(row)
        return changed
