"""What each score component adds to a pass, against the pass's own generate call, in one run.

    python benchmarks/verifier_cost.py [--tasks 16] [--candidates 3] [--repeats 3] [--out FILE.json]

The workload is one BEFORE pass of the loop: `tasks` x `candidates` commands generated (the
engine's batch: `--gen-batch-size` tasks per call), then inverted, then each component
computed on its own through the registry, on the base weights as the default verifier does.
Every stage is timed `repeats` times, interleaved (generate, invert, components; again), and
the median is reported with its ratio to the median generate call: these machines are shared
and noisy, so ratios in one run are the figures to read, not seconds. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch

from inversion_tui.backends import load_backend
from inversion_tui.loop.generate import generate_commands
from inversion_tui.loop.invert import invert_commands
from inversion_tui.loop.components import REGISTRY
from inversion_tui.loop.score import ScoringContext
from inversion_tui.settings import build_settings
from inversion_tui.tasks import load_packs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=16)
    parser.add_argument("--candidates", type=int, default=3)
    parser.add_argument("--gen-batch-size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--model", default=None)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    settings = build_settings(output=Path("."), **({"model": args.model} if args.model else {}))
    backend = load_backend(settings)
    pack = load_packs("pentest,shell")
    examples = pack.examples[: settings.few_shot]
    tasks = [item.task for item in pack.sample(args.tasks, random.Random(0))]
    timed = [name for name, spec in REGISTRY.items() if spec.cost != "generation"] + ["self_rating"]
    seconds: dict[str, list[float]] = {stage: [] for stage in ["generate", "invert", *timed]}

    def clock(stage: str, work):
        start = time.perf_counter()
        result = work()
        seconds[stage].append(time.perf_counter() - start)
        return result

    for repeat in range(args.repeats):
        backend.reseed(repeat)
        with backend.base_weights():
            for start in range(0, len(tasks), args.gen_batch_size):
                batch = tasks[start : start + args.gen_batch_size]
                generated = clock("generate", lambda: generate_commands(
                    backend, batch, candidates=args.candidates, temperature=0.7,
                    max_new_tokens=args.max_new_tokens, examples=examples))
                flat_tasks = [t for t, per_task in zip(batch, generated) for _ in per_task]
                commands = [g.command for per_task in generated for g in per_task]
                reconstructions = clock("invert", lambda: invert_commands(
                    backend, commands, temperature=0.0, max_new_tokens=args.max_new_tokens, examples=examples))
                for name in timed:
                    # a fresh context per component: reviewer_pmi pays for its reviewer pass too
                    context = ScoringContext(backend=backend, commands=commands, examples=examples, tasks=flat_tasks,
                                             read_commands=commands)
                    clock(name, lambda: REGISTRY[name].score(flat_tasks, reconstructions, context))
    # per pass: the batches' times summed, then the median over repeats
    batches = -(-len(tasks) // args.gen_batch_size)
    per_pass = {stage: statistics.median(sum(values[r * batches : (r + 1) * batches]) for r in range(args.repeats))
                for stage, values in seconds.items()}
    base = per_pass["generate"]
    print(f"{args.tasks} tasks x {args.candidates} candidates, {args.gen_batch_size} tasks per call, "
          f"median of {args.repeats} passes, {backend.description['device']}, {torch.get_num_threads()} threads")
    print(f"{'stage':<16}{'seconds':>10}{'x generate':>12}")
    for stage, value in per_pass.items():
        print(f"{stage:<16}{value:>10.2f}{value / base:>12.3f}")
    if args.out:
        args.out.write_text(json.dumps({
            "date": time.strftime("%Y-%m-%d"), "machine": platform.platform(), "processor": platform.processor(),
            "threads": torch.get_num_threads(), "torch": torch.__version__, "backend": backend.description,
            "tasks": args.tasks, "candidates": args.candidates, "gen_batch_size": args.gen_batch_size,
            "repeats": args.repeats, "seconds_per_pass": per_pass,
            "ratio_to_generate": {stage: value / base for stage, value in per_pass.items()}}, indent=1))


if __name__ == "__main__":
    main()
