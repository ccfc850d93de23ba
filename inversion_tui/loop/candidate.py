"""A scored candidate: one record, frozen, the same in the engine, in the event the UIs
receive, behind a row of the workbench's table, and on disk (one line of candidates.jsonl,
read back whole as a `CandidateLine`).

Frozen: a new verdict (a threshold or weights change, a training step that used it) is a new
record, `dataclasses.replace(candidate, accepted=..., reason=...)`, so no consumer can change
what another one holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from inversion_tui.loop.components import Components


@dataclass(frozen=True)
class Candidate:
    cycle: int
    phase: str  # "before" or "after"
    batch: int  # the batch of its pass it was scored in: the unit a resume keeps or redoes
    index: int  # position in its pass: selection order, and the key a resume finds it by
    task: str
    command: str
    reconstruction: str
    components: Components
    score: float  # under the weights in force when it was last (re)scored
    flags: tuple[str, ...]
    accepted: bool = False
    reason: str | None = None  # why not accepted; None when accepted
    template_id: str = ""
    tool: str = ""
    references: tuple[str, ...] = ()  # the template's gold commands: for checking the scorer only
    raw: str = ""  # the model's reply before extraction
    prompts: dict[str, str] = field(default_factory=dict)  # the exact prompts sent: forward, inverse[, rating]
    trained: bool = False  # already part of a training step

    def to_json(self, threshold: float | None, weights: dict[str, float]) -> dict[str, Any]:
        """One line of candidates.jsonl, with the threshold and weights its verdict was made under."""
        return {
            "cycle": self.cycle, "phase": self.phase, "batch": self.batch, "task": self.task,
            "template_id": self.template_id, "tool": self.tool, "references": list(self.references),
            "command": self.command, "raw_output": self.raw, "reconstruction": self.reconstruction,
            "components": self.components, "score": self.score, "flags": list(self.flags),
            "accepted": self.accepted, "reason": self.reason, "threshold": threshold, "weights": weights,
            "index": self.index, "prompts": self.prompts,
        }

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> "Candidate":
        """Back from a candidates.jsonl line (CandidateLine.from_json reads the whole line);
        KeyError or ValueError for a line that is not a candidate. Lines of older versions lack
        some keys: their defaults. Not trained: `marked_trained` says which were."""
        if record["phase"] not in ("before", "after"):
            raise ValueError(f"phase {record['phase']!r}")
        return cls(
            cycle=record["cycle"], phase=record["phase"], batch=record.get("batch", 0), index=record["index"],
            task=record["task"], command=record["command"], reconstruction=record["reconstruction"],
            components=dict(record["components"]), score=record["score"], flags=tuple(record.get("flags", ())),
            accepted=bool(record.get("accepted")), reason=record.get("reason"),
            template_id=record.get("template_id", ""), tool=record.get("tool", ""),
            references=tuple(record.get("references", ())), raw=record.get("raw_output", ""),
            prompts=record.get("prompts") or {},
        )

    def trained_in(self, trained_positions: set[tuple[int, int]]) -> bool:
        """Whether a training step used this candidate: `trained_positions` holds (cycle, index
        in its BEFORE pass) of every candidate trained on (Progress.trained_positions)."""
        return self.phase == "before" and (self.cycle, self.index) in trained_positions

    def marked_trained(self, trained_positions: set[tuple[int, int]]) -> "Candidate":
        """This candidate with `trained` set as `trained_positions` says (trained_in)."""
        trained = self.trained_in(trained_positions)
        return self if trained == self.trained else replace(self, trained=trained)


# The keys Candidate.to_json writes (tests/test_resume.py checks it): a line's other keys are
# another version's, kept as read.
LINE_KEYS = frozenset(("cycle", "phase", "batch", "task", "template_id", "tool", "references", "command",
                       "raw_output", "reconstruction", "components", "score", "flags", "accepted", "reason",
                       "threshold", "weights", "index", "prompts"))
# What a line of an older version that lacks one of the other keys reads as, by
# Candidate.from_json's own defaults (a line with only the keys it requires, written back):
# rewritten (a resume's repair), such a line leaves the key out again, so an older run's file
# keeps its shape.
_REQUIRED = {"cycle": 0, "phase": "before", "index": 0, "task": "", "command": "", "reconstruction": "",
             "components": {}, "score": 0.0}
ABSENT = {key: value for key, value in Candidate.from_json(_REQUIRED).to_json(None, {}).items()
          if key not in _REQUIRED}


@dataclass(frozen=True)
class CandidateLine:
    """One line of candidates.jsonl read back: the candidate, the threshold and weights its verdict
    was made under, and the keys this version does not write (a newer version's, or an older
    one's since retired), kept so that a rewrite (a resume's repair) loses nothing."""

    candidate: Candidate
    threshold: float | None = None
    weights: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    read_keys: frozenset[str] | None = field(default=None, compare=False)  # the line's keys; None: made here

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> "CandidateLine":
        """KeyError, ValueError or TypeError for a line that is not a candidate."""
        if not isinstance(record, dict):
            raise TypeError(f"a line of {type(record).__name__}, not an object")
        weights = record.get("weights") or {}
        if not isinstance(weights, dict):
            raise TypeError(f"weights {weights!r}")
        return cls(Candidate.from_json(record), record.get("threshold"), dict(weights),
                   {k: v for k, v in record.items() if k not in LINE_KEYS}, frozenset(record))

    def to_json(self) -> dict[str, Any]:
        data = {**self.candidate.to_json(self.threshold, self.weights), **self.extra}
        if self.read_keys is None:
            return data
        return {k: v for k, v in data.items() if k in self.read_keys or k not in ABSENT or v != ABSENT[k]}
