"""Likelihood components: what the model's token probabilities say about a (task, command) pair,
from one forward pass each, no decoding (Coder-Reviewer reranking, ../shared/RESEARCH.md).

- coder:    log p(command | task) under the forward prompt, over the command's tokens;
- reviewer: log p(task | command) under the inverse prompt, over the task's tokens (the
            likelihood form of the reconstruction the loop samples; with --placeholders both
            read with typed placeholders, as the inverter does);
- reviewer_pmi: the reviewer minus log p(task | empty command), the task's prior under the
            same prompt: what the command tells about the task beyond what the prompt alone
            does, so a task that is easy to guess anyway (short, common words) is not favoured.

The reviewer reads the command with its free text blanked (shell.blank_prose: the comment,
what echo prints, quoted sentences), as Coder-Reviewer strips comments and print strings: a
command that restates the task (`echo "scan port 80 on ..."`) gains nothing over any other
echo. Within one task, reviewer and reviewer_pmi rank candidates alike (the prior is the
task's); across tasks, in a pooled threshold, they differ.

Each is a mean over tokens (per-token, so long tasks and commands are not penalised for their
length) and mapped to [0, 1] by a monotone transform, so it ranks exactly as the raw value:
exp(mean log p) for coder and reviewer (the geometric-mean token probability) and the
logistic function of the per-token PMI for reviewer_pmi (0.5 = the command tells the model
nothing about the task).
"""

from __future__ import annotations

import math
from typing import Sequence

from inversion_tui.loop.generate import forward_prompt
from inversion_tui.loop.invert import inverse_prompt
from inversion_tui.shell import blank_prose

NEUTRAL_COMMAND = ""
"""What the reviewer's prior reads instead of a command."""


def mean_log_probs(backend, prompts: Sequence[str], continuations: Sequence[str]) -> list[float | None]:
    values = backend.log_likelihood(list(prompts), list(continuations))
    return [sum(v) / len(v) if v else None for v in values]


def _reviewer_log_probs(tasks: Sequence[str], context) -> list[float | None]:
    """Per-token mean log p(task | command): shared by reviewer and reviewer_pmi, computed once
    per scoring call (the context's memo)."""
    if "reviewer" not in context.memo:
        prompts = [inverse_prompt(context.backend, blank_prose(command), context.examples)
                   for command in context.read_commands]
        context.memo["reviewer"] = mean_log_probs(context.backend, prompts, tasks)
    return context.memo["reviewer"]


def _none_for_empty(commands: Sequence[str], values: list[float | None]) -> list[float | None]:
    # An empty command has nothing to judge; the guards reject it anyway.
    return [None if not command.strip() or value is None else value for command, value in zip(commands, values)]


def coder(tasks: Sequence[str], reconstructions: Sequence[str], context) -> list[float | None]:
    if not tasks:
        return []
    prompts = [forward_prompt(context.backend, task, context.examples) for task in context.tasks]
    values = mean_log_probs(context.backend, prompts, context.commands)
    return _none_for_empty(context.commands, [None if v is None else math.exp(v) for v in values])


def reviewer(tasks: Sequence[str], reconstructions: Sequence[str], context) -> list[float | None]:
    if not tasks:
        return []
    values = _reviewer_log_probs(tasks, context)
    return _none_for_empty(context.commands, [None if v is None else math.exp(v) for v in values])


def reviewer_pmi(tasks: Sequence[str], reconstructions: Sequence[str], context) -> list[float | None]:
    if not tasks:
        return []
    conditional = _reviewer_log_probs(tasks, context)
    distinct = list(dict.fromkeys(tasks))  # a pass has several candidates per task: one prior each
    neutral = inverse_prompt(context.backend, NEUTRAL_COMMAND, context.examples)
    prior = dict(zip(distinct, mean_log_probs(context.backend, [neutral] * len(distinct), distinct)))
    values = [None if c is None or prior[t] is None else _logistic(c - prior[t]) for t, c in zip(tasks, conditional)]
    return _none_for_empty(context.commands, values)


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x > -50 else 0.0
