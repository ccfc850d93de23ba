"""A batch of tasks through the model: its commands generated, inverted and scored, as the
pass's Candidates, with the stage and decoding events the workbench shows as they happen.
Memory running out splits the batch (kept smaller for the rest of the run)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from inversion_tui.loop import decoding, events as ev
from inversion_tui.loop.backend import Backend, out_of_memory_errors
from inversion_tui.loop.candidate import Candidate
from inversion_tui.loop.components import Components
from inversion_tui.loop.generate import forward_prompt, generate_commands
from inversion_tui.loop.invert import inverse_prompt
from inversion_tui.loop.literals import as_read
from inversion_tui.loop.pipeline import score_commands
from inversion_tui.loop.score import rating_prompt
from inversion_tui.loop.seeding import derive_seed
from inversion_tui.settings import RunSettings
from inversion_tui.tasks import TaskInstance

DECODING_EVENT_INTERVAL_S = 0.5
"""Decoding events are sent at most this often (and for each call's first step)."""


@dataclass
class BatchScorer:
    settings: RunSettings
    backend: Backend
    examples: Sequence[Any]  # the forward prompt's few-shot examples
    emit: ev.EventSink
    weights: Callable[[], dict[str, float]]  # the weights in force when a batch is scored (changed live)
    task_limit: int | None = None  # tasks per generate call after running out of memory

    def score_batch(
        self, cycle: int, phase: ev.Phase, batch_index: int, batch: Sequence[TaskInstance]
    ) -> list[Candidate]:
        """Score one batch; if memory runs out, in smaller pieces (the batch stays one batch on
        disk, so resume bookkeeping is unchanged)."""
        self.backend.reseed(derive_seed(self.settings.seed, "generate", cycle, phase, batch_index))
        return self.score_piece(cycle, phase, batch_index, batch)

    def score_piece(
        self, cycle: int, phase: ev.Phase, batch_index: int, batch: Sequence[TaskInstance]
    ) -> list[Candidate]:
        if self.task_limit is not None and len(batch) > self.task_limit:  # known not to fit
            size = self.task_limit
            return [c for i in range(0, len(batch), size)
                    for c in self.score_piece(cycle, phase, batch_index, batch[i : i + size])]
        try:
            return self.score_tasks(cycle, phase, batch_index, batch)
        except out_of_memory_errors():
            if len(batch) == 1:
                raise
        # The retry runs here, after the except block: inside it, the traceback would keep the
        # failed attempt's frames, and the tensors they hold, alive through the retry.
        self.backend.release_memory()
        half = (len(batch) + 1) // 2
        self.task_limit = half
        self.emit(ev.Log("warning", f"out of memory generating for {len(batch)} tasks at once; "
                                    f"retrying with {half} (kept for the rest of the run)"))
        return (self.score_piece(cycle, phase, batch_index, batch[:half])
                + self.score_piece(cycle, phase, batch_index, batch[half:]))

    def score_tasks(
        self, cycle: int, phase: ev.Phase, batch_index: int, batch: Sequence[TaskInstance]
    ) -> list[Candidate]:
        s = self.settings
        stage = ["generating"]  # the stage running now, for the decoding steps' events

        def on_stage(name: str, sequences: int) -> None:
            stage[0] = name
            self.emit(ev.StageStarted(cycle, phase, name, len(batch), sequences))

        last_sent = [0.0]

        def on_step(step: int, max_steps: int) -> None:
            # A few events a second are enough for a person; one per token would flood the UI.
            if step == 1 or time.monotonic() - last_sent[0] >= DECODING_EVENT_INTERVAL_S:
                last_sent[0] = time.monotonic()
                self.emit(ev.Decoding(cycle, phase, stage[0], step, max_steps, last_sent[0]))

        with decoding.listening(on_step):
            on_stage("generating", len(batch) * s.candidates)
            generated = generate_commands(
                self.backend, [i.task for i in batch], candidates=s.candidates, temperature=s.temperature,
                max_new_tokens=s.max_new_tokens, examples=self.examples,
            )
            pairs = [(instance, g) for instance, per_task in zip(batch, generated) for g in per_task]
            self.emit(ev.CommandsGenerated(cycle, phase, batch_index, tuple(i.task for i, _ in pairs),
                                           tuple(g.command for _, g in pairs)))
            scored = score_commands(
                self.backend, [instance.task for instance, _ in pairs], [g.command for _, g in pairs],
                weights=self.weights(), examples=self.examples, max_new_tokens=s.max_new_tokens,
                temperature=s.inverse_temperature, verifier=s.verifier, placeholders=s.placeholders,
                on_stage=on_stage,
                on_inverted=lambda reconstructions: self.emit(ev.CommandsInverted(cycle, phase, batch_index,
                                                                                  tuple(reconstructions))),
            )
        return [
            Candidate(cycle, phase, batch_index, 0, instance.task, c.command, c.reconstruction, c.components, c.score,
                      c.flags, template_id=instance.template_id, tool=instance.tool, references=instance.references,
                      raw=g.raw, prompts=self.prompts_of(instance.task, c.command, c.components))
            for (instance, g), c in zip(pairs, scored)
        ]

    def prompts_of(self, task: str, command: str, components: Components) -> dict[str, str]:
        """The exact prompts this candidate went through, for the inspector (rendering them
        again is string templating, no tokenizer or model)."""
        prompts = {"forward": forward_prompt(self.backend, task, self.examples)}
        if command:  # an empty command is not inverted (invert.py)
            read = as_read(command, self.settings.placeholders, command=True)
            prompts["inverse"] = inverse_prompt(self.backend, read, self.examples)
        if components.get("self_rating") is not None:
            prompts["rating"] = rating_prompt(self.backend, task, command)
        return prompts
