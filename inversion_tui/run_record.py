"""Replay a run from its directory alone: `inversion-tui inspect RUN_DIR`.

The run's files are turned back into the engine's own event stream, so the replay opens in
the same app, with the same widgets, as the live run did. Nothing here writes to the run's
files (marks aside, which the app adds to marks.jsonl), takes its lock or loads a model; a
finished, stopped, crashed or still running run can all be read.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator

from inversion_tui.errors import RunDirectoryError
from inversion_tui.loop import events as ev
from inversion_tui.loop.candidate import Candidate
from inversion_tui.loop.guards import guard_flags
from inversion_tui.loop.progress import Progress
from inversion_tui.loop.runlog import CANDIDATES, SETTINGS, RunLog, read_candidate_lines, read_json_object
from inversion_tui.loop.components import REGISTRY
from inversion_tui.loop.score import compute_components
from inversion_tui.settings import as_saved


@dataclass
class RunRecord:
    directory: Path
    settings: dict[str, Any]
    progress: Progress
    candidates: list[Candidate]  # candidates.jsonl's readable lines, in file order
    skipped_lines: int = 0  # unreadable candidates.jsonl lines (a torn tail after a crash)
    notes: list[str] = field(default_factory=list)  # what a user should know about this replay

    @property
    def status(self) -> str:
        """finished, stopped, running (its process is alive) or crashed."""
        status = self.progress.status
        if status != "running":
            return status
        holder = RunLog(self.directory)._read_lock()
        return "running" if holder and RunLog._lock_is_live(holder) else "crashed"


def load_run(directory: Path) -> RunRecord:
    directory = Path(directory)
    if not directory.is_dir():
        what = "a file, not a run directory" if directory.exists() else "no such run directory"
        raise RunDirectoryError(f"{directory}: {what}")
    if not (directory / SETTINGS).is_file():
        raise RunDirectoryError(f"{directory} is not a run directory (no {SETTINGS})")
    settings = as_saved(read_json_object(directory / SETTINGS))  # every setting, as the run had it
    progress = Progress.read(directory)
    lines, unreadable = read_candidate_lines(directory)
    run = RunRecord(directory, settings, progress, [line.candidate for line in lines], len(unreadable))
    if unreadable:
        run.notes.append(f"{len(unreadable)} unreadable line(s) of {CANDIDATES} skipped (a torn write?)")
    if run.status == "running":
        run.notes.append("the run is still going: this is a snapshot of its files")
    return run


def trained_positions(progress: dict[str, Any]) -> set[tuple[int, int]]:
    """(cycle, index in its BEFORE pass) of every candidate trained on, from progress.json's
    contents (Progress.trained_positions)."""
    return Progress.from_json(progress).trained_positions()


def rescore_text(run: RunRecord) -> None:
    """Recompute the guards and the text components (those registered with cost "text") of
    every stored candidate with the current code; the others keep their stored values, since
    they need a model. For runs made before a guard or component
    existed. Changes the candidates in memory only (the files are not written)."""
    text_components = {name for name, spec in REGISTRY.items() if spec.cost == "text"}
    fresh = compute_components([c.task for c in run.candidates], [c.reconstruction for c in run.candidates],
                               [c.command for c in run.candidates], backend=None, weights={},
                               always=tuple(text_components))
    run.candidates = [
        replace(c, components={**{name: None for name in REGISTRY}, **c.components,
                               **{name: components[name] for name in text_components}},
                flags=guard_flags(c.task, c.command))
        for c, components in zip(run.candidates, fresh)]
    run.notes.append(f"re-scored {len(run.candidates)} candidates' guards and text components with the current code")


def replay_events(run: RunRecord) -> Iterator[ev.Event]:
    """The event stream of the run as far as its files go."""
    settings, progress = run.settings, run.progress
    backend = progress.backend
    yield ev.RunStarted(str(run.directory), settings.get("model", "?"), backend.get("quant", "?"),
                        backend.get("device", "?"), settings["cycles"], settings)
    for note in run.notes:
        yield ev.Log("warning", note)
    trained = progress.trained_positions()
    history = {entry.cycle: entry for entry in progress.cycles}
    passes: dict[tuple[int, str], list[Candidate]] = {}
    for candidate in run.candidates:
        passes.setdefault((candidate.cycle, candidate.phase), []).append(candidate)
    for cycle, phase in sorted(passes, key=lambda key: (key[0], key[1] != "before")):
        scored = sorted(passes[(cycle, phase)], key=lambda c: c.index)
        tasks = settings["tasks"]
        yield ev.PhaseStarted(cycle, phase, tasks)
        for candidate in scored:
            yield ev.CandidateScored(candidate.marked_trained(trained))
        per_task = settings["candidates"]
        yield ev.BatchDone(cycle, phase, min(tasks, -(-len(scored) // per_task)), tasks)
        if phase == "after" and cycle in history:
            yield ev.CycleDone(cycle, history[cycle])
    for evaluation in progress.evaluations:
        yield ev.Evaluated(evaluation.cycle, evaluation)
    yield ev.RunFinished(run.status, len(history), str(run.directory))


class ReplaySource:
    """Stands in for the engine in the app: emits the run's events, then returns its status."""

    def __init__(self, run: RunRecord, emit: ev.EventSink):
        self.run_record, self.emit = run, emit

    def run(self) -> str:
        for event in replay_events(self.run_record):
            self.emit(event)
        return self.run_record.status
