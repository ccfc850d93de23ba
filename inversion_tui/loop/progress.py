"""progress.json: where a run stands. This module alone writes and reads it.

The shape is the seed's (`last_completed_cycle`, `timestamp`, `history.cycles[]`) with what
resume, replay and the reports need beside it. Keys this version does not know (a newer
version's, or `forced_stop` and `error` on a stopped or crashed run) are kept as they were.

The records in it are typed here, one reader and one writer each: a training step
(`TrainingSummary`), a pass's numbers (`PassSummary`), a completed cycle (`CycleRecord`), a
held-out set's summary after a cycle (`Evaluation`).
Runs saved by older versions lack some keys; each field's default stands in for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, Sequence

from inversion_tui.errors import RunDirectoryError
from inversion_tui.loop.gap import VerificationGap
from inversion_tui.loop.json_record import JsonRecord
from inversion_tui.loop.metrics import PairedDifference
from inversion_tui.loop.scorer_check import ScorerCheck
from inversion_tui.loop.runlog import PROGRESS, atomic_write_json, read_json_object


@dataclass
class Evaluation(JsonRecord):
    """A held-out set's summary after one cycle (cycle 0: the base model): metrics.summarize's
    numbers, with the verification gap (--eval-samples) and the change against the base model
    task by task (`vs_base`, from cycle 1 on)."""

    cycle: int = 0
    set: str = ""  # its name; "" in runs saved before a run could evaluate several
    n: int = 0
    utility_accuracy: float = 0.0  # right program
    exact_match: float = 0.0
    token_f1: float = 0.0
    ci95: dict[str, list[float]] = field(default_factory=dict)  # per metric
    groups: int | None = None  # resampling units, where tasks come in groups (templates)
    mean_score: float = 0.0
    auroc: float | None = None  # of the score for a right program
    gap: VerificationGap | None = None  # --eval-samples
    vs_base: PairedDifference | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    NESTED: ClassVar[dict[str, type]] = {"vs_base": PairedDifference, "gap": VerificationGap}
    OMITTED_WHEN_NONE: ClassVar[tuple[str, ...]] = ("groups", "gap", "vs_base")  # as they always were


@dataclass
class TrainingSummary(JsonRecord):
    """One training step: a cycle's end-of-pass step (`cycle` None: the cycle it is filed under)
    or a train-now step (with its `cycle`). A skipped step trained nothing: `examples` 0."""

    mean_loss: float | None = None
    examples: int = 0  # examples in the step (accumulated ones under --train-from base, replayed ones)
    new_examples: int = 0  # from this step's pool
    replayed: int = 0
    replayed_commands: list[list[str]] = field(default_factory=list)  # [task, command]: not candidates
    steps: int = 0  # optimizer steps
    losses: list[float] = field(default_factory=list)  # the loss curve, for inspect
    # What selected the pool: the threshold, weights and rule in force when the step ran.
    threshold: float | None = None
    weights: dict[str, float] | None = None
    select: str | None = None
    trained_indices: list[int] = field(default_factory=list)  # positions in the cycle's BEFORE pass
    cycle: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = super().to_json()
        cycle = data.pop("cycle", None)
        return data if cycle is None else {"cycle": cycle, **data}  # train-now records lead with it


@dataclass
class PassSummary(JsonRecord):
    """A BEFORE or AFTER pass's numbers (engine.pass_metrics); the last three came later."""

    total_generated: int = 0
    accepted: int = 0
    acceptance_rate: float = 0.0
    mean_score: float = 0.0
    flagged: int | None = None
    distinct_commands: int | None = None
    consensus: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class CycleRecord(JsonRecord):
    """A completed cycle, one entry of progress.json's history.cycles (and of the results file)."""

    NESTED: ClassVar[dict[str, type]] = {"before": PassSummary, "after": PassSummary, "training": TrainingSummary}
    LISTS: ClassVar[dict[str, type]] = {"manual_trainings": TrainingSummary}
    DICTS: ClassVar[dict[str, type]] = {"eval": Evaluation, "scorer_check": ScorerCheck}

    cycle: int
    before: PassSummary = field(default_factory=PassSummary)
    after: PassSummary = field(default_factory=PassSummary)
    improvement: float = 0.0  # after.mean_score - before.mean_score
    improvement_ci95: list[float] | None = None  # its noise over tasks; None in runs saved before it
    # Every step of the cycle (train-now ones too); train_steps None: a record made by hand or
    # saved before it, counted as trained.
    train_loss: float | None = None
    train_examples: int = 0
    train_steps: int | None = None
    training: TrainingSummary | None = None  # the end-of-pass step; None in runs saved before it
    scorer_check: dict[str, ScorerCheck] = field(default_factory=dict)  # by pass: "before", "after"
    manual_trainings: list[TrainingSummary] = field(default_factory=list)
    threshold: float | None = None
    weights: dict[str, float] | None = None
    checkpoint: str | None = None  # its adapter's run-directory name
    eval: dict[str, Evaluation] | None = None  # the cycle's held-out summaries by set name
    duration_s: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def trained(self) -> bool:
        """Whether a step trained in this cycle: its end-of-pass step or a train-now step (runs
        saved before train_steps counted train-now steps keep them apart)."""
        return bool(self.train_steps is None or self.train_steps) or any(m.steps for m in self.manual_trainings)

    def training_steps(self) -> list[TrainingSummary]:
        """The cycle's training steps in the order they ran: train-now steps, then its own."""
        return [*self.manual_trainings, *([self.training] if self.training else [])]


@dataclass(frozen=True)
class SettingChange:
    """A setting's value before and after a change (stored as {"from", "to"})."""

    before: Any
    after: Any
    extra: dict[str, Any] = field(default_factory=dict, compare=False)  # keys of a newer version, written back

    def to_json(self) -> dict[str, Any]:
        return {"from": self.before, "to": self.after, **self.extra}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "SettingChange":
        return cls(data["from"], data["to"], {k: v for k, v in data.items() if k not in ("from", "to")})


@dataclass
class Resume(JsonRecord):
    """A resume that changed settings (`--resume DIR --cycles 3`): when, and what changed."""

    DICTS: ClassVar[dict[str, type]] = {"changes": SettingChange}

    time: str = ""
    changes: dict[str, SettingChange] = field(default_factory=dict)  # by setting name
    extra: dict[str, Any] = field(default_factory=dict)


UNSET_LEFT_OUT = ("select", "select_changes", "best_adapter", "elapsed_s")
"""Keys added after runs were kept (experiments 5-7): written only once they hold something."""


@dataclass
class Progress:
    status: str = "running"  # running, finished, stopped, crashed
    last_completed_cycle: int = 0
    timestamp: str = ""
    backend: dict[str, Any] = field(default_factory=dict)  # model, quant, device, dtype, ...
    threshold: float | None = None  # in force now (changed live or on resume)
    threshold_changes: list[dict[str, Any]] = field(default_factory=list)
    weights: dict[str, float] | None = None  # in force now
    weight_changes: list[dict[str, Any]] = field(default_factory=list)
    select: str | None = None  # the selection rule in force now (changed live)
    select_changes: list[dict[str, Any]] = field(default_factory=list)
    latest_adapter: str | None = None  # run-directory name of the newest saved adapter
    best_adapter: str | None = None  # the best cycle's by --patience-on (None: the base model is best)
    # The time the run has worked, over all its sessions, as of this write (time stopped between
    # a stop and a resume is not counted); None in runs from before it was kept.
    elapsed_s: float | None = None
    # The cycle under way, its end-of-pass step once done, and when it began in the run's working
    # time (stored as current.cycle/.training/.started_s).
    current_cycle: int | None = None
    current_training: TrainingSummary | None = None
    current_started_s: float | None = None
    manual_trainings: list[TrainingSummary] = field(default_factory=list)  # train-now steps, every cycle's
    resumes: list[Resume] = field(default_factory=list)  # those that changed settings
    evaluations: list[Evaluation] = field(default_factory=list)  # held-out summaries; cycle 0 = base
    cycles: list[CycleRecord] = field(default_factory=list)  # stored as history.cycles, one per cycle done
    extra: dict[str, Any] = field(default_factory=dict)  # keys kept as found

    STORED_APART: ClassVar[tuple[str, ...]] = ("current_cycle", "current_training", "current_started_s",
                                               "manual_trainings", "resumes", "evaluations", "cycles", "extra")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Progress":
        known = {f.name for f in fields(cls)} - set(cls.STORED_APART)
        values = {name: data[name] for name in known if name in data and data[name] is not None}
        current = data.get("current") or {}
        training = current.get("training")
        return cls(**values, current_cycle=current.get("cycle"),
                   current_training=TrainingSummary.from_json(training) if training else None,
                   current_started_s=current.get("started_s"),
                   manual_trainings=[TrainingSummary.from_json(m) for m in data.get("manual_trainings") or ()],
                   resumes=[Resume.from_json(r) for r in data.get("resumes") or ()],
                   evaluations=[Evaluation.from_json(e) for e in data.get("evaluations") or ()],
                   cycles=[CycleRecord.from_json(c) for c in (data.get("history") or {}).get("cycles", [])],
                   extra={k: v for k, v in data.items()
                          if k not in known | {"current", "manual_trainings", "resumes", "evaluations", "history"}})

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "current_cycle":  # the current_ fields are one object, here in the file
                data["current"] = {} if self.current_cycle is None else {
                    "cycle": self.current_cycle,
                    "training": self.current_training.to_json() if self.current_training else None,
                    **({"started_s": self.current_started_s} if self.current_started_s is not None else {})}
            elif f.name in ("manual_trainings", "resumes", "evaluations"):
                data[f.name] = [record.to_json() for record in getattr(self, f.name)]
            elif f.name not in self.STORED_APART:
                data[f.name] = getattr(self, f.name)
        for key in UNSET_LEFT_OUT:  # a run that never set them (older ones) reads back unchanged
            if not data[key]:
                del data[key]
        return {**self.extra, **data, "history": {"cycles": [c.to_json() for c in self.cycles]}}

    @classmethod
    def read(cls, directory: Path) -> "Progress":
        """RunDirectoryError if it cannot be read; a run that has none yet is a fresh Progress."""
        path = Path(directory) / PROGRESS
        if not path.exists():
            return cls()
        try:
            return cls.from_json(read_json_object(path))
        except (TypeError, AttributeError, KeyError, ValueError) as exc:  # a record of the wrong shape
            raise RunDirectoryError(f"{path}: not a progress file this version can read "
                                    f"({type(exc).__name__}: {exc})") from None

    def write(self, directory: Path) -> None:
        atomic_write_json(Path(directory) / PROGRESS, self.to_json())

    # ---- what several readers ask of it

    @property
    def first_open_cycle(self) -> int:
        return self.last_completed_cycle + 1

    def training_of(self, cycle: int) -> TrainingSummary | None:
        """The cycle's end-of-pass training summary, if that step is done."""
        return self.current_training if self.current_cycle == cycle else None

    def trained_positions(self) -> set[tuple[int, int]]:
        """(cycle, index in its BEFORE pass) of every candidate a training step used: the
        end-of-pass steps, train-now steps, and the current cycle's step if the run stopped
        after it."""
        steps = [(entry.cycle, entry.training) for entry in self.cycles if entry.training]
        steps += [(step.cycle, step) for step in self.manual_trainings]
        if self.current_training:
            steps.append((self.current_cycle, self.current_training))
        return {(cycle, index) for cycle, step in steps for index in step.trained_indices}


def run_results(settings, backend: dict[str, Any], history: Sequence[CycleRecord], evaluations: Sequence[Evaluation],
                elapsed_s: float) -> dict[str, Any]:
    """self_improvement_results.json of a finished run: its settings, cycles and a summary."""
    first, last = history[0], history[-1]
    losses = [c.train_loss for c in history if c.train_loss is not None]
    return {
        "settings": settings.model_dump(mode="json"),
        "backend": backend,
        "cycles": [c.to_json() for c in history],
        "summary": {
            "cycles_completed": len(history),
            "initial_mean_score": first.before.mean_score,
            "final_mean_score": last.after.mean_score,
            "total_improvement": last.after.mean_score - first.before.mean_score,
            "initial_acceptance_rate": first.before.acceptance_rate,
            "final_acceptance_rate": last.after.acceptance_rate,
            "mean_train_loss": sum(losses) / len(losses) if losses else None,
            "evaluations": [e.to_json() for e in evaluations],
            "elapsed_s": round(elapsed_s, 2),
        },
    }
