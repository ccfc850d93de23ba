"""Forward pass: task -> candidate commands, for a whole batch of tasks in one generate call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from inversion_tui.loop.backend import Backend
from inversion_tui.loop.chat import few_shot_messages
from inversion_tui.loop.extract import extract_command
from inversion_tui.tasks import Example

if TYPE_CHECKING:  # the docs package loads the index and numpy: only a hinted prompt needs them
    from inversion_tui.manuals.hints import DocHints

FORWARD_SYSTEM = (
    "You are a Linux command-line expert. Given a task, reply with exactly one shell command "
    "that performs it. Reply with the command only: no explanation, no code fences."
)


@dataclass(frozen=True)
class GeneratedCommand:
    raw: str  # the model's reply, kept for debugging extraction
    command: str


def forward_messages(task: str, examples: Sequence[Example], hints: DocHints | None = None) -> list[dict[str, str]]:
    """The forward chat. Takes the task *text* only: references can never reach it. With
    hints (manuals/hints.py), every task, the demonstrations' too, is followed by its manual
    hints, so the demonstrations show the shape the query has."""
    ask = (lambda text: text) if hints is None else hints.query
    return few_shot_messages(FORWARD_SYSTEM, ((ask(e.task), e.command) for e in examples), ask(task))


def forward_prompt(backend: Backend, task: str, examples: Sequence[Example], hints: DocHints | None = None) -> str:
    return backend.chat_prompt(forward_messages(task, examples, hints))


def generate_commands(
    backend: Backend, tasks: Sequence[str], *, candidates: int, temperature: float, max_new_tokens: int,
    examples: Sequence[Example], hints: DocHints | None = None,
) -> list[list[GeneratedCommand]]:
    """`candidates` commands for each task, from one batched generate call."""
    if hints is not None:
        hints.programs_for([*tasks, *(e.task for e in examples)])  # one embed call for the batch
    prompts = [forward_prompt(backend, task, examples, hints) for task in tasks]
    replies = backend.complete(
        prompts, num_return_sequences=candidates, temperature=temperature, max_new_tokens=max_new_tokens
    )
    return [[GeneratedCommand(raw, extract_command(raw)) for raw in per_task] for per_task in replies]
