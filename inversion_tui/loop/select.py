"""Selection: which scored candidates join the accepted pool, and why the others do not.

Pure over a list of candidates, so a threshold change can recompute a whole cycle's
acceptance from stored scores with no model call.
"""

from __future__ import annotations

from typing import Protocol, Sequence


class Selectable(Protocol):
    task: str
    command: str
    score: float
    flags: tuple[str, ...]


def normalize_command(command: str) -> str:
    return " ".join(command.split())


def decide(candidates: Sequence[Selectable], threshold: float, allow_flagged: bool = False) -> list[str | None]:
    """For each candidate: None if accepted, else the reason it was not.

    Accepted = score >= threshold, no guard flag (unless `allow_flagged`; an empty command
    never), and the first of its (task, normalized command) pair: training on the same pair
    twice would only weight it double.
    """
    seen: set[tuple[str, str]] = set()
    reasons: list[str | None] = []
    for candidate in candidates:
        key = (candidate.task, normalize_command(candidate.command))
        blocking = [f for f in candidate.flags if f == "empty" or not allow_flagged]
        if blocking:
            reasons.append("flagged: " + ", ".join(blocking))
        elif candidate.score < threshold:
            reasons.append(f"score {candidate.score:.3f} < threshold {threshold:.2f}")
        elif key in seen:
            reasons.append("duplicate of an accepted candidate")
        else:
            seen.add(key)
            reasons.append(None)
    return reasons
