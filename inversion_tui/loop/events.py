"""Typed events the engine emits. Headless mode, the TUI and tests consume the same stream."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal, get_args

from inversion_tui.loop.candidate import Candidate
from inversion_tui.loop.progress import CycleRecord, Evaluation

Phase = Literal["before", "after"]


@dataclass(frozen=True)
class RunStarted:
    output: str
    model: str
    quant: str
    device: str
    cycles: int
    settings: dict[str, Any]


@dataclass(frozen=True)
class PhaseStarted:
    cycle: int
    phase: Phase
    total: int  # tasks in this pass
    done: int = 0  # of them already scored: a resumed pass's batches kept from before the stop


@dataclass(frozen=True)
class CandidateScored:
    """A candidate scored (or re-read by a replay). Its fields are the record's own:
    `event.task`, `event.score` and so on read `event.candidate`."""

    candidate: Candidate

    def __getattr__(self, name: str):
        if name == "candidate":  # not set yet (copying): no recursion
            raise AttributeError(name)
        return getattr(self.candidate, name)


@dataclass(frozen=True)
class HistoryRestored:
    """A resumed run's candidates of the cycles it completed before, as they were stored (with
    `trained` set), so a front end shows the whole run and not only what this process scores.
    The resumed cycle's own candidates come as CandidateScored, as a live pass's do."""

    candidates: tuple[Candidate, ...]


@dataclass(frozen=True)
class StageStarted:
    """Inside a batch, which can take minutes on a CPU: what the model is doing now."""

    cycle: int
    phase: Phase
    stage: str  # generating, inverting, scoring
    tasks: int  # tasks in this batch
    sequences: int  # sequences this stage runs through the model


@dataclass(frozen=True)
class Decoding:
    """Inside a generating or inverting stage: how far its generate call has got. Sent at most a
    few times a second (and for the first step), not per token."""

    cycle: int
    phase: Phase
    stage: str
    step: int  # tokens decoded so far in this call
    max_steps: int  # the most it may decode (--max-new-tokens); it ends earlier once all sequences do
    at: float = 0.0  # time.monotonic() in the engine when the step ended: the rate is the engine's, not the UI's


@dataclass(frozen=True)
class CommandsGenerated:
    """A batch's commands, as soon as generate returns and before they are inverted and scored:
    the live view shows them while the rest of the batch runs."""

    cycle: int
    phase: Phase
    batch: int  # a batch split after running out of memory sends one event per piece
    tasks: tuple[str, ...]  # one per command
    commands: tuple[str, ...]


@dataclass(frozen=True)
class CommandsInverted:
    """The same batch's reconstructions, in the order of CommandsGenerated, before scoring."""

    cycle: int
    phase: Phase
    batch: int
    reconstructions: tuple[str, ...]


@dataclass(frozen=True)
class BatchDone:
    cycle: int
    phase: Phase
    tasks_done: int
    tasks_total: int


@dataclass(frozen=True)
class TrainingStarted:
    cycle: int
    examples: int
    manual: bool  # True for a "train now" request, False for the end-of-pass step


@dataclass(frozen=True)
class TrainingStep:
    cycle: int
    step: int
    total_steps: int
    loss: float


@dataclass(frozen=True)
class TrainingDone:
    cycle: int
    examples: int
    steps: int
    mean_loss: float | None  # None when the accepted pool was empty
    manual: bool = False
    trained_indices: tuple[int, ...] = ()  # positions in the cycle's BEFORE pass of the pairs trained on


@dataclass(frozen=True)
class Evaluated:
    cycle: int  # 0 = the base model before any training
    summary: Evaluation  # the set's summary: n, utility_accuracy, ..., ci95, auroc, vs_base


@dataclass(frozen=True)
class Paused:
    cycle: int
    phase: Phase


@dataclass(frozen=True)
class Resumed:
    cycle: int
    phase: Phase


@dataclass(frozen=True)
class ThresholdChanged:
    cycle: int
    old: float
    new: float


@dataclass(frozen=True)
class WeightsChanged:
    cycle: int
    old: dict[str, float]
    new: dict[str, float]


@dataclass(frozen=True)
class CheckpointSaved:
    cycle: int
    path: str


@dataclass(frozen=True)
class CycleDone:
    cycle: int
    metrics: CycleRecord  # the progress.json entry of this cycle


@dataclass(frozen=True)
class RunFinished:
    status: str  # finished or stopped; a replay also says running or crashed
    cycles_completed: int
    output: str
    best_adapter: str | None = None  # run-directory name of the best adapter by `best_by`; None: the base
    best_by: str | None = None  # what --patience-on tracked; None where not known


@dataclass(frozen=True)
class Log:
    level: Literal["info", "warning"]
    message: str


Event = (
    RunStarted | HistoryRestored | PhaseStarted | StageStarted | Decoding | CommandsGenerated | CommandsInverted
    | CandidateScored | BatchDone | TrainingStarted | TrainingStep
    | TrainingDone | CheckpointSaved | CycleDone | RunFinished | Log | Paused | Resumed | ThresholdChanged
    | WeightsChanged | Evaluated
)
EventSink = Callable[[Event], None]
EVENT_TYPES: tuple[type, ...] = get_args(Event)


@dataclass
class EventRecorder:
    """An EventSink that keeps every event; for tests and for `inspect`-style consumers."""

    events: list = field(default_factory=list)

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]
