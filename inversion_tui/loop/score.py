"""Scoring: the scorers of the per-candidate components, and how weights (which are data)
combine them.

Every component is registered once, as a ScorerSpec in loop/components.py's REGISTRY: its
scorer, what it costs, its default weight, its label on screen. A new component is its scorer
(here, or a module of its own such as likelihood.py) and one `register` call there.

Every scorer has one signature, `scorer(tasks, reconstructions, context) -> list[float | None]`,
and returns values in [0, 1]. None means "could not judge" and is skipped by `combine`, not
counted as zero. Components are stored per candidate, so a new weighting re-scores a whole
run without a model call.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Sequence

from inversion_tui.loop.backend import Backend
from inversion_tui.loop.components import REGISTRY, Components, always_computed
from inversion_tui.loop.literals import as_read, mask_literals
from inversion_tui.shell import program_name


@dataclass(frozen=True)
class ScoringContext:
    """Everything a scorer may need beside the task and its reconstruction, in one object, so
    a new scorer needs no new keyword threaded through every caller."""

    backend: Backend | None = None  # None where no model is loaded (replay's text re-scoring)
    commands: Sequence[str] = ()  # the candidates' commands, aligned with the tasks
    examples: Sequence[Any] = ()  # the few-shot demonstrations the prompts carry
    tasks: Sequence[str] = ()  # the tasks as the forward prompt had them (scorers are given them
    # as the inversion is judged: with typed placeholders under --placeholders)
    read_commands: Sequence[str] = ()  # the commands as the inverter read them (placeholders)
    memo: dict = field(default_factory=dict, compare=False)  # what scorers of one call share (likelihood.py)
    docs: Any = None  # the documentation index (manuals/index.py); None: the one `make setup` built


_TOKEN = re.compile(r"[a-z0-9]+(?:[./:_-][a-z0-9]+)*")  # keeps 192.168.1.1 and /var/log whole


def tokens(text: str) -> set[str]:
    return set(_TOKEN.findall(text.lower()))


def token_overlap(tasks: Sequence[str], reconstructions: Sequence[str],
                  context: ScoringContext | None = None) -> list[float | None]:
    """Jaccard overlap of word sets: symmetric, so padding a reconstruction with words does not pay."""
    scores: list[float | None] = []
    for task, reconstruction in zip(tasks, reconstructions):
        a, b = tokens(task), tokens(reconstruction)
        scores.append(len(a & b) / len(a | b) if a | b else None)
    return scores


def difflib_ratio(tasks: Sequence[str], reconstructions: Sequence[str],
                  context: ScoringContext | None = None) -> list[float | None]:
    """Character-level similarity, as in the seed (case-folded)."""
    return [
        difflib.SequenceMatcher(None, task.lower(), reconstruction.lower()).ratio()
        for task, reconstruction in zip(tasks, reconstructions)
    ]


def token_overlap_masked(tasks: Sequence[str], reconstructions: Sequence[str],
                         context: ScoringContext | None = None) -> list[float | None]:
    """Token overlap with literals (IPs, ports, paths, URLs, file names) masked on both sides:
    credit only for the words that say what is done, not for literals the inverse copied."""
    return token_overlap([mask_literals(t) for t in tasks], [mask_literals(r) for r in reconstructions])


def difflib_ratio_masked(tasks: Sequence[str], reconstructions: Sequence[str],
                         context: ScoringContext | None = None) -> list[float | None]:
    """difflib with literals masked on both sides (see token_overlap_masked)."""
    return difflib_ratio([mask_literals(t) for t in tasks], [mask_literals(r) for r in reconstructions])


def embedding_cosine(tasks: Sequence[str], reconstructions: Sequence[str], context: ScoringContext) -> list[float | None]:
    """Cosine of sentence embeddings, one batched embed call, clipped to [0, 1]."""
    if not tasks:
        return []
    vectors = context.backend.embed(list(tasks) + list(reconstructions))
    half = len(tasks)
    scores: list[float | None] = []
    for i, reconstruction in enumerate(reconstructions):
        if not reconstruction.strip():
            scores.append(0.0)
            continue
        cosine = sum(x * y for x, y in zip(vectors[i], vectors[half + i]))
        scores.append(min(1.0, max(0.0, cosine)))
    return scores


RATING_SYSTEM = "You grade shell commands. Reply with a single integer from 0 to 10."
# The prompt ends on the answer's own lead-in, so the next tokens must be the number: small
# models otherwise open with prose ("The command performs ...") and never give one.
RATING_LEAD_IN = "Rating (0-10): "
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def rating_messages(task: str, command: str) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": RATING_SYSTEM},
        {
            "role": "user",
            "content": f"Task: {task}\nCommand: {command}\n"
            "How well does the command perform the task, from 0 (not at all) to 10 (exactly)?",
        },
    ]


def rating_prompt(backend: Backend, task: str, command: str) -> str:
    return backend.chat_prompt(rating_messages(task, command)) + RATING_LEAD_IN


def parse_rating(reply: str) -> float | None:
    match = _NUMBER.search(reply)
    if match is None:
        return None
    value = float(match.group())
    return value / 10.0 if 0.0 <= value <= 10.0 else None


def self_rating(tasks: Sequence[str], reconstructions: Sequence[str], context: ScoringContext) -> list[float | None]:
    """The model's own 0-10 grade of (task, command), the seed's third signal. One batched call."""
    prompts = [rating_prompt(context.backend, t, c) for t, c in zip(context.tasks, context.commands)]
    if not prompts:
        return []
    replies = context.backend.complete(prompts, num_return_sequences=1, temperature=0.0, max_new_tokens=4)
    return [parse_rating(reply[0]) for reply in replies]


def program_consensus(tasks: Sequence[str], reconstructions: Sequence[str],
                      context: ScoringContext) -> list[float | None]:
    """Execution-free self-consistency: the share of the same task's *other* candidates in this
    pass that name the same program. None when the task has one candidate (greedy evaluation)."""
    programs = [program_name(command) if command.strip() else "" for command in context.commands]
    per_task = Counter(context.tasks)
    same = Counter(zip(context.tasks, programs))
    return [None if per_task[task] < 2 else 0.0 if not program else (same[task, program] - 1) / (per_task[task] - 1)
            for task, program in zip(context.tasks, programs)]


def compute_components(
    tasks: Sequence[str], reconstructions: Sequence[str], commands: Sequence[str], *,
    backend: Backend | None, weights: dict[str, float], always: Sequence[str] | None = None,
    examples: Sequence[Any] = (), placeholders: bool = False,
) -> list[Components]:
    """Components for each candidate. A component with zero weight that is not named in
    `always` (default: those registered as always computed) is not computed, and is stored
    as None. With `placeholders`, the reconstructions are of the commands with typed
    placeholders (pipeline.py), and the tasks are judged with them too."""
    always = always_computed() if always is None else always
    judged_tasks = [as_read(t, placeholders) for t in tasks]
    read_commands = [as_read(c, placeholders, command=True) for c in commands]
    context = ScoringContext(backend=backend, commands=commands, examples=examples, tasks=tasks,
                             read_commands=read_commands)
    tasks = judged_tasks
    columns: dict[str, list[float | None]] = {}
    for name, spec in REGISTRY.items():
        if weights.get(name, 0.0) > 0 or name in always:
            columns[name] = spec.score(tasks, reconstructions, context)
        else:
            columns[name] = [None] * len(tasks)
    return [{name: columns[name][i] for name in REGISTRY} for i in range(len(tasks))]


def contributions(components: Components, weights: dict[str, float]) -> dict[str, float | None]:
    """Each component's share of the score (they sum to it); None for one that does not count."""
    weight_sum = sum(w for name, w in weights.items() if w > 0 and components.get(name) is not None)
    return {
        name: weights.get(name, 0.0) * value / weight_sum
        if value is not None and weights.get(name, 0.0) > 0 and weight_sum else None
        for name, value in components.items()
    }


def combine(components: Components, weights: dict[str, float]) -> float:
    """Weighted mean over the components that are present and weighted; 0 when none are."""
    total = weight_sum = 0.0
    for name, value in components.items():
        weight = weights.get(name, 0.0)
        if value is None or weight <= 0:
            continue
        total += weight * value
        weight_sum += weight
    return total / weight_sum if weight_sum else 0.0
