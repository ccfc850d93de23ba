"""The base model's replayed answers of a --replay run made before steps recorded them
(progress.json's `replayed_commands`, since 5cbd712): drawn again the way the engine draws
them (the same seeded sample of the replay pool, greedy with the base weights), so they are
the same answers. Prints each step's, and the programs they name.

    python experiments/replayed_again.py RUN_DIR
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from inversion_tui.backends import load_backend
from inversion_tui.loop import training_set
from inversion_tui.loop.progress import Progress
from inversion_tui.shell import program_name
from inversion_tui.settings import saved_settings
from inversion_tui.task_pools import run_pools


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    args = parser.parse_args()
    settings = saved_settings({**json.loads((args.run / "settings.json").read_text()), "output": args.run})
    progress = Progress.read(args.run)
    pools = run_pools(settings)
    training, pool = pools.training, pools.replay_or_training
    backend = load_backend(settings)
    examples = training.examples[: settings.few_shot]
    programs: Counter[str] = Counter()
    for entry in progress.cycles:
        step = entry.training
        if step is None or not step.replayed:
            continue
        # the engine's draw: round(R x the step's examples before replay), this seed, no manual steps
        count = round(settings.replay * (step.examples - step.replayed))
        instances = training_set.replay_draw(pool, count, settings.seed, entry.cycle, 0)
        replayed = training_set.replay(backend, examples, instances, settings.max_new_tokens)
        check = "" if len(replayed) == step.replayed else f" (the run replayed {step.replayed}: NOT the same draw)"
        print(f"cycle {entry.cycle}: {len(replayed)} replayed{check}")
        for task, pair in replayed:
            programs[program_name(pair.completion)] += 1
            print(f"  {task[:70]!r} -> {pair.completion[:70]!r}")
    print("programs:", ", ".join(f"{name} {n}" for name, n in programs.most_common()))


if __name__ == "__main__":
    main()
