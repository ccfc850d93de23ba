"""progress.json: where a run stands. This module alone writes and reads it.

The shape is the seed's (`last_completed_cycle`, `timestamp`, `history.cycles[]`) with what
resume, replay and the reports need beside it. Keys this version does not know (a newer
version's, or `forced_stop` and `error` on a stopped or crashed run) are kept as they were.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from inversion_tui.loop.runlog import PROGRESS, atomic_write_json, read_json_object


UNSET_LEFT_OUT = ("select", "select_changes", "best_adapter")
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
    current: dict[str, Any] = field(default_factory=dict)  # {"cycle", "training"}: the cycle under way
    manual_trainings: list[dict[str, Any]] = field(default_factory=list)
    resumes: list[dict[str, Any]] = field(default_factory=list)
    evaluations: list[dict[str, Any]] = field(default_factory=list)  # held-out summaries; cycle 0 = base
    cycles: list[dict[str, Any]] = field(default_factory=list)  # stored as history.cycles, one per cycle done
    extra: dict[str, Any] = field(default_factory=dict)  # keys kept as found

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Progress":
        known = {f.name for f in fields(cls)} - {"cycles", "extra"}
        values = {name: data[name] for name in known if name in data and data[name] is not None}
        values["cycles"] = list((data.get("history") or {}).get("cycles", []))
        values["extra"] = {k: v for k, v in data.items() if k not in known and k != "history"}
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        cycles, extra = data.pop("cycles"), data.pop("extra")
        for key in UNSET_LEFT_OUT:  # a run that never set them (older ones) reads back unchanged
            if not data[key]:
                del data[key]
        return {**extra, **data, "history": {"cycles": cycles}}

    @classmethod
    def read(cls, directory: Path) -> "Progress":
        """RunDirectoryError if it cannot be read; a run that has none yet is a fresh Progress."""
        path = Path(directory) / PROGRESS
        return cls.from_json(read_json_object(path)) if path.exists() else cls()

    def write(self, directory: Path) -> None:
        atomic_write_json(Path(directory) / PROGRESS, self.to_json())

    # ---- what several readers ask of it

    @property
    def first_open_cycle(self) -> int:
        return self.last_completed_cycle + 1

    def training_of(self, cycle: int) -> dict[str, Any] | None:
        """The cycle's end-of-pass training summary, if that step is done."""
        return self.current.get("training") if self.current.get("cycle") == cycle else None

    def trained_positions(self) -> set[tuple[int, int]]:
        """(cycle, index in its BEFORE pass) of every candidate a training step used: the
        end-of-pass steps, train-now steps, and the current cycle's step if the run stopped
        after it."""
        steps = [{"cycle": entry["cycle"], **(entry.get("training") or {})} for entry in self.cycles]
        steps += self.manual_trainings
        if self.current.get("training"):
            steps.append({"cycle": self.current.get("cycle"), **self.current["training"]})
        return {(step["cycle"], index) for step in steps for index in step.get("trained_indices", ())}
