"""Evaluating a model on held-out tasks: one greedy command per task, its reconstruction and
intrinsic score through the loop's own scoring pipeline, judged against the references
(which never reach a prompt). The engine runs it every cycle; `inversion-tui eval` once.
With samples, N sampled commands per task too: the rows the verification gap is read from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from inversion_tui.loop.generate import generate_commands
from inversion_tui.loop.metrics import Judgement, judge, summarize
from inversion_tui.loop.pipeline import score_commands
from inversion_tui.loop.components import REGISTRY

if TYPE_CHECKING:
    from inversion_tui.manuals.hints import DocHints


@dataclass(frozen=True)
class EvalTask:
    task: str
    references: tuple[str, ...]
    group: str = ""
    """Tasks sharing a group (rendered from one template) share its wording and its program, so
    they are not independent: the bootstrap resamples whole groups. "" for independent tasks."""


@dataclass(frozen=True)
class EvalRow:
    task: str
    references: tuple[str, ...]
    command: str
    reconstruction: str
    score: float
    judgement: Judgement
    group: str = ""

    def record(self, index: int, **context) -> dict:
        """One line of evaluations.jsonl (or `eval --save-rows`): what paired_difference reads."""
        group = {"group": self.group} if self.group else {}
        return {**context, "index": index, "task": self.task, **group, "references": list(self.references),
                "command": self.command, "reconstruction": self.reconstruction, "score": self.score,
                "utility": self.judgement.utility, "token_f1": self.judgement.token_f1,
                "exact": self.judgement.exact}


def evaluate_model(backend, tasks: Sequence[EvalTask], *, examples, weights: dict[str, float],
                   batch_size: int, max_new_tokens: int, verifier: str = "base", placeholders: bool = False,
                   hints: DocHints | None = None, between_batches=lambda: None) -> tuple[dict, list[EvalRow]]:
    """Greedy, batched: one command per task, its reconstruction and intrinsic score, judged
    against the references (which never reach a prompt). `hints` (manuals/hints.py) ground the
    forward prompt only: the score judges the command against the task as written."""
    rows: list[EvalRow] = []
    for start in range(0, len(tasks), batch_size):
        between_batches()  # a run's engine honours pause and stop here
        batch = tasks[start : start + batch_size]
        texts = [t.task for t in batch]
        generated = generate_commands(backend, texts, candidates=1, temperature=0.0,
                                      max_new_tokens=max_new_tokens, examples=examples, hints=hints)
        scored = score_commands(backend, texts, [per_task[0].command for per_task in generated], weights=weights,
                                examples=examples, max_new_tokens=max_new_tokens, temperature=0.0,
                                verifier=verifier, placeholders=placeholders)
        for task, candidate in zip(batch, scored):
            rows.append(EvalRow(task.task, task.references, candidate.command, candidate.reconstruction,
                                candidate.score, judge(candidate.command, task.references), task.group))
    return summarize([r.judgement for r in rows], [r.score for r in rows], [r.group for r in rows]), rows


def sample_records(backend, tasks: Sequence[EvalTask], *, samples: int, temperature: float, examples,
                   weights: dict[str, float], batch_size: int, max_new_tokens: int, verifier: str = "base",
                   placeholders: bool = False, hints: DocHints | None = None, between_batches=lambda: None,
                   **context) -> list[dict]:
    """`samples` sampled commands per task, each scored through the pipeline with every
    component that needs no decoding (so each one's AUROC can be read off) and judged against
    the references: the rows the verification gap (gap.py) is computed from. `context` (cycle,
    set) goes into every row."""
    always = [name for name, spec in REGISTRY.items() if spec.cost != "generation"]
    records: list[dict] = []
    for start in range(0, len(tasks), batch_size):
        between_batches()
        batch = tasks[start : start + batch_size]
        generated = generate_commands(backend, [t.task for t in batch], candidates=samples, temperature=temperature,
                                      max_new_tokens=max_new_tokens, examples=examples, hints=hints)
        flat = [(start + i, task, g) for i, (task, per_task) in enumerate(zip(batch, generated)) for g in per_task]
        scored = score_commands(backend, [task.task for _, task, _ in flat], [g.command for _, _, g in flat],
                                weights=weights, examples=examples, max_new_tokens=max_new_tokens, temperature=0.0,
                                always=always, verifier=verifier, placeholders=placeholders)
        for sample, ((index, task, _), candidate) in enumerate(zip(flat, scored)):
            judgement = judge(candidate.command, task.references)
            group = {"group": task.group} if task.group else {}
            records.append({**context, "index": index, "task": task.task, **group, "sample": sample % samples,
                            "command": candidate.command, "reconstruction": candidate.reconstruction,
                            "components": candidate.components, "score": candidate.score,
                            "flags": list(candidate.flags), "utility": judgement.utility,
                            "token_f1": judgement.token_f1, "exact": judgement.exact})
    return records
