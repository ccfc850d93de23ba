"""Scoring: per-candidate components, combined by weights that are data.

Every component is registered once, as a ScorerSpec in REGISTRY (at the end of this file):
its callable, what it costs, its default weight, its label on screen. Settings, `--weights`,
the TUI's columns and labels, the weights dialog, the filter, replay's re-scoring and the
README's table all derive from the registry, so a new component is one `register` call.

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
from typing import Any, Callable, Literal, Sequence

from inversion_tui.loop import doc_scores, likelihood
from inversion_tui.loop.backend import Backend
from inversion_tui.loop.literals import as_read, mask_literals
from inversion_tui.loop.shell import program_name

Components = dict[str, float | None]


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
    docs: Any = None  # the documentation index (docs/index.py); None: the one `make setup` built


Scorer = Callable[[Sequence[str], Sequence[str], ScoringContext], list[float | None]]

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


Cost = Literal["text", "embedding", "forward", "generation"]


@dataclass(frozen=True)
class ScorerSpec:
    """One score component: everything the rest of the program knows about it."""

    name: str  # stored per candidate under this name; used in --weights
    scorer: Scorer
    cost: Cost  # text: no model; embedding: one embed call; forward: one forward pass; generation: decoding
    default_weight: float
    help: str  # what it measures, in one line (the README's table and the weights dialog)
    label: str | None = None  # short name in the live pane; None: not shown there
    column: bool = False  # a column of its own in the candidates table (label as header)
    always: bool = True  # computed for every candidate whatever its weight, so a re-weighting
    # (live or in a replay) has it; False for a costly one, computed only while weighted


REGISTRY: dict[str, ScorerSpec] = {}
"""Every component, in display order. Add one with `register`."""


def register(spec: ScorerSpec) -> ScorerSpec:
    if spec.name in REGISTRY:
        raise ValueError(f"score component {spec.name!r} is registered twice")
    REGISTRY[spec.name] = spec
    return spec


def component_names() -> tuple[str, ...]:
    return tuple(REGISTRY)


def default_weights() -> dict[str, float]:
    return {name: spec.default_weight for name, spec in REGISTRY.items()}


def always_computed() -> tuple[str, ...]:
    return tuple(name for name, spec in REGISTRY.items() if spec.always)


# The default weights were chosen on the packs' tasks and reported on InterCode-ALFA, never
# tuned there (docs/RESULTS.md, "The manual as a verifier"; experiments/doc_verifier.py): of
# 19,171 weightings of the stored components with the manual's four, the one with the best
# pooled AUROC on the packs (0.928; issue 13's default 0.907) reaches 0.788 on InterCode (0.741)
# and picks a right program for 0.197 of its tasks out of 8 samples (greedy 0.137, issue 13's
# default 0.140). It drops `coder`, a forward pass, and keeps `reviewer`.
register(ScorerSpec("embed", embedding_cosine, "embedding", 0.0, label="emb", column=True,
                    help="cosine of sentence embeddings (all-MiniLM-L6-v2), clipped at 0"))
register(ScorerSpec("overlap", token_overlap, "text", 0.0, label="ovl",
                    help="Jaccard overlap of word sets (IPs and paths stay whole tokens)"))
register(ScorerSpec("difflib", difflib_ratio, "text", 0.0, label="dif",
                    help="`difflib.SequenceMatcher` ratio, case-folded (as in the seed)"))
register(ScorerSpec("self_rating", self_rating, "generation", 0.0, label="self", always=False,
                    help="the model's own 0-10 grade of (task, command), /10. Off by default because it "
                         "costs a generate call"))
register(ScorerSpec("overlap_masked", token_overlap_masked, "text", 0.0, label="ovm", column=True,
                    help="`overlap` with literals masked on both sides"))
register(ScorerSpec("difflib_masked", difflib_ratio_masked, "text", 0.0,
                    help="`difflib` with literals masked on both sides"))
register(ScorerSpec("coder", likelihood.coder, "forward", 0.0, label="cod", column=True, always=False,
                    help="log p(command given task) per token under the forward prompt, as exp (geometric-mean "
                         "token probability)"))
register(ScorerSpec("reviewer", likelihood.reviewer, "forward", 1.0, label="rev", column=True, always=False,
                    help="log p(task given command) per token under the inverse prompt (its free text blanked), as exp"))
register(ScorerSpec("reviewer_pmi", likelihood.reviewer_pmi, "forward", 0.0, label="pmi", always=False,
                    help="the reviewer minus log p(task given an empty command) per token, through the logistic "
                         "function (0.5: the command says nothing about the task)"))
register(ScorerSpec("consensus", program_consensus, "text", 1.0, label="cons", column=True,
                    help="share of the task's other candidates in the pass that name the same program"))
register(ScorerSpec("documented", doc_scores.documented, "text", 0.0, label="dmd",
                    help="share of the command's programs that a manual page documents"))
register(ScorerSpec("doc", doc_scores.doc, "embedding", 1.0, label="doc", column=True,
                    help="the task against each program's manual NAME line (embedding cosine; an undocumented "
                         "program 0), averaged over the programs"))
register(ScorerSpec("doc_options", doc_scores.doc_options, "embedding", 1.0, label="dop",
                    help="the task against the manual's lines for the options the command uses (None without "
                         "options)"))
register(ScorerSpec("options_known", doc_scores.options_known, "text", 0.0, label="opt",
                    help="share of the command's options that its programs' pages document (None without options "
                         "or a page)"))
# The forward-pass components are computed only while weighted: on 2 CPU cores each costs about
# half a generate call (benchmarks/verifier_cost.py). The *_masked variants serve `--mask-literals`.

MASKED_VARIANTS = {"overlap": "overlap_masked", "difflib": "difflib_masked"}


def mask_weights(weights: dict[str, float]) -> dict[str, float]:
    """The same weighting with overlap and difflib moved onto their literal-masked variants."""
    moved = dict(weights)
    for plain, masked in MASKED_VARIANTS.items():
        moved[masked] = moved.get(masked, 0.0) + moved.get(plain, 0.0)
        moved[plain] = 0.0
    return moved


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
            columns[name] = spec.scorer(tasks, reconstructions, context)
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
