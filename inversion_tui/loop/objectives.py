"""Training objectives: what each one trains on and which settings it owns, one registration each.

The engine asks an objective for a step's examples (`examples`); the Hugging Face trainer asks
it for its loss (`loss`), which needs torch. Both are named "module:function" and resolved on
first use, so this table, which settings read for the names, loads neither.

A new objective is its loss (hf/objectives.py, from the run's settings), its hyperparameters
as RunSettings fields (named in `owns`), and one `register` call here; a preference objective
can reuse `training_set:preference_pairs`, a supervised one `training_set:sft_examples`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inversion_tui.importing import resolve


@dataclass(frozen=True)
class ObjectiveSpec:
    name: str  # --objective NAME (RunSettings.objective's docstring says what each optimises)
    examples: str  # "module:function"(backend, few-shot examples, pool, before_pass) -> the step's examples
    loss: str  # "module:function"(settings) -> the trainer's Objective (hf/objectives.py)
    owns: tuple[str, ...] = ()  # RunSettings fields that only this objective reads
    takes_replay: bool = False  # --replay's supervised examples (base-model commands) can join its steps

    def step_examples(self, backend: Any, examples: Any, pool: Any, before_pass: Any) -> list:
        return resolve(self.examples)(backend, examples, pool, before_pass)

    def trainer_objective(self, settings: Any) -> Any:
        return resolve(self.loss)(settings)


OBJECTIVES: dict[str, ObjectiveSpec] = {}
"""Every objective, by name. Add one with `register`."""


def register(spec: ObjectiveSpec) -> ObjectiveSpec:
    if spec.name in OBJECTIVES:
        raise ValueError(f"objective {spec.name!r} is registered twice")
    OBJECTIVES[spec.name] = spec
    return spec


register(ObjectiveSpec(
    "sft",  # the accepted commands' likelihood under the forward prompt
    examples="inversion_tui.loop.training_set:sft_examples", loss="inversion_tui.hf.objectives:sft",
    takes_replay=True))
register(ObjectiveSpec(
    "dpo",  # each accepted command against its task's lowest-scoring other command (ScPO-style DPO)
    examples="inversion_tui.loop.training_set:preference_pairs", loss="inversion_tui.hf.objectives:dpo",
    owns=("dpo_beta",)))
