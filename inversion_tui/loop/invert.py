"""Inverse pass: command -> reconstructed task, batched.

The inverse prompt sees the command alone. The seed also passed the tool name, which leaked
part of the answer into the reconstruction; here nothing about the task goes in.
"""

from __future__ import annotations

import re
from typing import Sequence

from inversion_tui.loop.backend import Backend
from inversion_tui.loop.chat import few_shot_messages
from inversion_tui.tasks import Example

INVERSE_SYSTEM = (
    "You explain shell commands. Given one command, reply with the task a user asked for, "
    "as one short imperative sentence. Reply with the task only."
)

_LEAD_IN = re.compile(r"^(?:task|the task is|answer|description)\s*[:\-]\s*", re.I)


def inverse_messages(command: str, examples: Sequence[Example]) -> list[dict[str, str]]:
    # the demonstrations run backwards: command in, task out
    return few_shot_messages(INVERSE_SYSTEM, ((e.command, e.task) for e in examples), command)


def inverse_prompt(backend: Backend, command: str, examples: Sequence[Example]) -> str:
    return backend.chat_prompt(inverse_messages(command, examples))


def clean_reconstruction(raw: str) -> str:
    for line in raw.splitlines():
        line = _LEAD_IN.sub("", line.strip()).strip().strip('"').strip()
        if line:
            return line
    return ""


def invert_commands(
    backend: Backend, commands: Sequence[str], *, temperature: float, max_new_tokens: int,
    examples: Sequence[Example],
) -> list[str]:
    """One reconstruction per command; empty commands get an empty reconstruction, no model call."""
    to_invert = [i for i, command in enumerate(commands) if command]
    reconstructions = [""] * len(commands)
    if not to_invert:
        return reconstructions
    prompts = [inverse_prompt(backend, commands[i], examples) for i in to_invert]
    replies = backend.complete(prompts, num_return_sequences=1, temperature=temperature, max_new_tokens=max_new_tokens)
    for index, per_prompt in zip(to_invert, replies):
        reconstructions[index] = clean_reconstruction(per_prompt[0])
    return reconstructions
