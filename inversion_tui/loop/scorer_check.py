"""Does the scorer track reality? Its verdicts set against two outside views:

- correctness against the pack template's reference commands (program name, token F1,
  normalized exact match: the held-out metrics of metrics.py), for tasks that have them;
- a person's good/bad marks.

Pure functions over anything with the candidate's attributes, so the engine (per cycle, into
progress.json), the live UI and a replay compute the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol, Sequence

from inversion_tui.loop.json_record import JsonRecord
from inversion_tui.loop.metrics import auroc, judge

DIVERSITY_ALARM = 0.5
"""Distinct commands per candidate below this, or below half of the run's first pass, raises
the collapse alarm: the model has started to say the same thing whatever it is asked."""


class Checked(Protocol):
    cycle: int
    phase: str
    index: int
    command: str
    score: float
    accepted: bool
    references: tuple[str, ...]


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


@dataclass
class ScorerCheck(JsonRecord):
    """The scorer against references over one pass (check_pass): progress.json keeps one per
    pass of each cycle (`scorer_check.before`, `.after`). The shares are None where nothing
    was judged (a pass of tasks without references accepts and rejects nothing judged)."""

    candidates: int = 0
    judged: int = 0  # candidates whose task has references
    accepted_n: int = 0
    rejected_n: int = 0
    accepted_accuracy: float | None = None  # right program
    rejected_accuracy: float | None = None
    accepted_exact: float | None = None
    rejected_exact: float | None = None
    accepted_token_f1: float | None = None
    rejected_token_f1: float | None = None
    accuracy: float | None = None  # of every judged candidate
    auroc: float | None = None  # of the score as a predictor of the right program
    diversity: float | None = None  # distinct commands per candidate
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PassCheck:
    """check_pass of one pass of a run (check_cycles), with the collapse alarm applied."""

    cycle: int
    phase: str
    check: ScorerCheck
    collapse: bool


def check_pass(candidates: Sequence[Checked]) -> ScorerCheck:
    """Scorer against references over one pass (or any group of candidates).

    `correct` means the program name matches a reference's (utility accuracy); token F1 and
    exact match are given beside it. AUROC is of the score as a predictor of `correct`."""
    judged = [(c, judge(c.command, c.references)) for c in candidates if c.references]
    accepted = [j for c, j in judged if c.accepted]
    rejected = [j for c, j in judged if not c.accepted]
    distinct = len({" ".join(c.command.split()) for c in candidates})
    return ScorerCheck(
        candidates=len(candidates),
        judged=len(judged),
        accepted_n=len(accepted),
        rejected_n=len(rejected),
        accepted_accuracy=_mean([float(j.utility) for j in accepted]),
        rejected_accuracy=_mean([float(j.utility) for j in rejected]),
        accepted_exact=_mean([float(j.exact) for j in accepted]),
        rejected_exact=_mean([float(j.exact) for j in rejected]),
        accepted_token_f1=_mean([j.token_f1 for j in accepted]),
        rejected_token_f1=_mean([j.token_f1 for j in rejected]),
        accuracy=_mean([float(j.utility) for _, j in judged]),
        auroc=auroc([c.score for c, _ in judged], [j.utility for _, j in judged]),
        diversity=distinct / len(candidates) if candidates else None,
    )


def check_cycles(candidates: Sequence[Checked]) -> list[PassCheck]:
    """check_pass per (cycle, phase), in run order, with the diversity alarm applied."""
    groups: dict[tuple[int, str], list[Checked]] = {}
    for c in candidates:
        groups.setdefault((c.cycle, c.phase), []).append(c)
    order = sorted(groups, key=lambda key: (key[0], key[1] != "before"))
    checks = [(cycle, phase, check_pass(groups[(cycle, phase)])) for cycle, phase in order]
    first = checks[0][2].diversity if checks else None
    return [PassCheck(cycle, phase, check, diversity_collapsed(check.diversity, first))
            for cycle, phase, check in checks]


def diversity_collapsed(diversity: float | None, first: float | None) -> bool:
    if diversity is None:
        return False
    return diversity < DIVERSITY_ALARM or (first is not None and diversity < first / 2)


def marks_agreement(candidates: Sequence[Checked], marks: Mapping[tuple[int, str, int], str]) -> dict[str, Any]:
    """The scorer's verdicts against a person's marks ("good"/"bad"), over the marked candidates.

    precision: of the marked candidates the scorer accepts, the share marked good;
    recall: of those marked good, the share the scorer accepts; AUROC: of the score for good."""
    marked = [(c, marks[(c.cycle, c.phase, c.index)] == "good") for c in candidates
              if (c.cycle, c.phase, c.index) in marks]
    good = [c for c, is_good in marked if is_good]
    accepted = [is_good for c, is_good in marked if c.accepted]
    return {
        "marked": len(marked),
        "good": len(good),
        "precision": _mean([float(g) for g in accepted]),
        "recall": _mean([float(c.accepted) for c in good]),
        "auroc": auroc([c.score for c, _ in marked], [g for _, g in marked]),
    }
