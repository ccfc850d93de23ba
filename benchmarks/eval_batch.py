"""How many tasks one evaluation generate call should take: the held-out evaluation's batch size.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/eval_batch.py [--tasks 48] [--sizes 8,24] [--repeats 2]

A run evaluates greedy, one sequence per task. With `gen_batch_size` tasks per call that is
8 sequences, a third of what a loop pass puts in one call (8 tasks x 3 candidates), so the
same memory holds 3x the tasks. This times `evaluate_model` on the same InterCode tasks at
each size, alternating sizes so drift on a shared machine falls on all, and checks whether
the greedy outputs stay the same. Prints the figures and writes
benchmarks/results/eval_batch.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=48)
    parser.add_argument("--sizes", default="8,24")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "eval_batch.json")
    args = parser.parse_args()

    import torch
    import transformers

    from inversion_tui.evaluate import evaluate_model, load_intercode
    from inversion_tui.hf_backend import HFBackend
    from inversion_tui.settings import build_settings
    from inversion_tui.tasks import load_packs

    sizes = [int(s) for s in args.sizes.split(",")]
    settings = build_settings(output=Path("."), pack="pentest,shell")
    backend = HFBackend.load(settings)
    examples = load_packs(settings.pack).examples[: settings.few_shot]
    tasks = load_intercode()[: args.tasks]
    evaluate_model(backend, tasks[:4], examples=examples, weights=settings.weights, batch_size=4,
                   max_new_tokens=settings.max_new_tokens)  # warm-up
    times = {size: [] for size in sizes}
    commands = {}
    for _ in range(args.repeats):
        for size in sizes:
            started = time.perf_counter()
            summary, rows = evaluate_model(backend, tasks, examples=examples, weights=settings.weights,
                                           batch_size=size, max_new_tokens=settings.max_new_tokens)
            times[size].append(time.perf_counter() - started)
            commands[size] = [r.command for r in rows]
            print(f"batch {size:>3}: {times[size][-1]:6.1f} s for {len(tasks)} tasks "
                  f"(utility {summary['utility_accuracy']:.3f}, token F1 {summary['token_f1']:.3f})", flush=True)
    base = sizes[0]
    best = {size: min(values) for size, values in times.items()}
    result = {
        "date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "torch": torch.__version__, "transformers": transformers.__version__, "tasks": len(tasks),
        "seconds": times, "best_seconds": best,
        "speedup_vs_first": {size: best[base] / best[size] for size in sizes},
        "same_commands_as_first": {size: sum(a == b for a, b in zip(commands[base], commands[size]))
                                   for size in sizes},
    }
    for size in sizes:
        print(f"batch {size:>3}: best {best[size]:.1f} s, {result['speedup_vs_first'][size]:.2f}x vs batch {base}, "
              f"{result['same_commands_as_first'][size]}/{len(tasks)} commands identical")
    args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
