"""Where a stopped or killed run left off, read from its run directory alone.

The unit of work is a batch: candidates.jsonl keeps whole batches (a torn tail is dropped),
progress.json says which cycles are complete, whether the current cycle's training step is
done and which adapter is the latest. Seeds derive from positions (seeding.py), so the
batches still to do come out as they would have in the uninterrupted run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from inversion_tui.errors import InversionError, SettingsError
from inversion_tui.loop.candidate import Candidate
from inversion_tui.loop.objectives import OBJECTIVES
from inversion_tui.loop.progress import CycleRecord, Evaluation, Progress, Resume, SettingChange, TrainingSummary
from inversion_tui.loop.runlog import SETTINGS, RunLog, now
from inversion_tui.settings import RunSettings, as_saved, build_settings

CHANGEABLE_ON_RESUME = ("threshold", "cycles")
"""Settings a resumed run may change; the rest define the run (its batches, prompts, model)."""


@dataclass
class ResumePoint:
    cycle: int  # the first cycle not completed
    history: list[CycleRecord]
    manual_trainings: list[TrainingSummary]
    threshold_changes: list[dict[str, Any]]
    candidates: list[Candidate]  # those already scored in `cycle` (whole batches)
    training: TrainingSummary | None  # `cycle`'s end-of-pass training summary, if it is done
    latest_adapter: str | None  # run-directory name of the adapter to load
    dropped_lines: int  # partial-batch lines removed from candidates.jsonl
    resumes: list[Resume] = field(default_factory=list)
    evaluations: list[Evaluation] = field(default_factory=list)
    weight_changes: list[dict[str, Any]] = field(default_factory=list)
    select_changes: list[dict[str, Any]] = field(default_factory=list)
    past_candidates: list[Candidate] = field(default_factory=list)  # the cycles before `cycle`, to show
    elapsed_s: float = 0.0  # the time the run worked before this resume (as of its last write)
    cycle_started_s: float | None = None  # when `cycle` began, in that working time; None: not begun


def lines_per_batch(settings: RunSettings) -> Callable[[Candidate], int]:
    def count(candidate: Candidate) -> int:
        first_task = candidate.batch * settings.gen_batch_size
        return min(settings.gen_batch_size, settings.tasks - first_task) * settings.candidates

    return count


def resumed_settings(runlog: RunLog, overrides: dict[str, Any]) -> tuple[RunSettings, dict[str, SettingChange]]:
    """The run's saved settings with the allowed overrides applied. Returns (settings, changes)."""
    saved = as_saved(runlog.read_json(SETTINGS))  # every setting, as the run had it
    # Runs saved before --replay was refused with --objective dpo trained without it (the engine
    # dropped replay from DPO steps): they resume as they ran, not refused for a flag that no
    # resume could change.
    if saved["replay"] > 0 and not OBJECTIVES[saved["objective"]].takes_replay:
        saved.update(replay=0.0, replay_from=None)
    as_run = build_settings(**saved).model_dump(mode="json")
    changes = {}
    for name, value in overrides.items():
        # Compared as validated (`--eval-suite intercode` is the run's ["intercode"]).
        if build_settings(**{**saved, name: value}).model_dump(mode="json")[name] == as_run[name]:
            continue
        if name not in CHANGEABLE_ON_RESUME:
            allowed = ", ".join(f"--{n}" for n in CHANGEABLE_ON_RESUME)
            raise SettingsError(f"--{name.replace('_', '-')} cannot change on resume (the run has "
                                f"{saved[name]!r}; a resumed run may change only {allowed})")
        changes[name] = SettingChange(saved[name], value)
    settings = build_settings(**{**saved, **{name: change.after for name, change in changes.items()}})
    progress = Progress.read(runlog.directory)
    if settings.cycles < progress.last_completed_cycle:
        raise SettingsError(f"--cycles {settings.cycles} is below the {progress.last_completed_cycle} "
                            "cycles this run has already completed")
    return settings, changes


def read_resume_point(runlog: RunLog, settings: RunSettings) -> ResumePoint:
    progress = Progress.read(runlog.directory)
    kept, dropped = runlog.repair_candidates(lines_per_batch(settings))
    cycle = progress.first_open_cycle
    return ResumePoint(
        cycle=cycle,
        history=progress.cycles,
        manual_trainings=progress.manual_trainings,
        threshold_changes=progress.threshold_changes,
        candidates=[c for c in kept if c.cycle == cycle],
        training=progress.training_of(cycle),
        latest_adapter=progress.latest_adapter,
        dropped_lines=dropped,
        resumes=progress.resumes,
        evaluations=progress.evaluations,
        weight_changes=progress.weight_changes,
        select_changes=progress.select_changes,
        past_candidates=[c for c in kept if c.cycle < cycle],
        elapsed_s=progress.elapsed_s or 0.0,
        cycle_started_s=progress.current_started_s if progress.current_cycle == cycle else None,
    )


def open_resume(directory: Path, overrides: dict[str, Any]) -> tuple[RunSettings, RunLog, ResumePoint]:
    """Everything a resumed run needs: settings (with the allowed changes, recorded in the
    point's `resumes`), the locked run log, and where to continue."""
    runlog = RunLog.open_existing(directory)
    try:
        settings, changes = resumed_settings(runlog, overrides)
        point = read_resume_point(runlog, settings)
    except InversionError:
        runlog.release_lock()  # a refused resume leaves the directory as it found it
        raise
    if changes:
        point.resumes.append(Resume(time=now(), changes=changes))
    return settings, runlog, point
