"""One cycle's workload two ways, in one process on one model: the seed's pattern and ours.

    python benchmarks/loop_speed.py [--tasks 20] [--candidates 3] [--model NAME|DIR] [--quant auto]
                                    [--max-new-tokens 48] [--rating-tokens 4] [--out FILE.json]

The workload: `tasks` x `candidates` commands generated, each inverted, each scored (its own
0-10 self-rating, as the seed did, plus the embedding and text components), then one epoch
of LoRA training on those (task, command) pairs.

- seed pattern: one sequence per `generate` call (forward, then inverse, then rating, candidate
  after candidate), one embedding call per candidate, and training batches padded to 512
  tokens with labels over the padding (pad = EOS), as the seed trained.
- ours: the engine's own stage functions (generate_commands, invert_commands,
  compute_components, train_lora): `--gen-batch-size` tasks x `candidates` sequences per
  generate call, one inverse call and one rating call per batch, batched embeddings, and
  dynamically padded training with the loss on the command tokens only.

Both decode exactly the same number of tokens (min_new_tokens = max_new_tokens), use the same
prompts, the same pairs and the same LoRA starting weights, so the ratio is like for like.
`ours` uses the shared-prefix cache where the engine does (on a CPU, not on a GPU:
models.prefix_cache_pays); a third run, ours with it the other way, measures what it is worth.
Prints per-stage seconds, tokens/s and the ratios, the decode step time against the
bandwidth floor (weight bytes / measured copy bandwidth) and, on CUDA, peak GPU memory;
writes a JSON result with date, machine and versions. Not a test: a benchmark to run and read.

GPU, a model shaped like Mistral-7B in NF4 (random weights, see make_random_model.py):
    python benchmarks/make_random_model.py --out /tmp/mistral-shaped
    python benchmarks/loop_speed.py --model /tmp/mistral-shaped --quant 4bit --tasks 50 --out FILE.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from contextlib import contextmanager
from pathlib import Path


os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch

from inversion_tui.backends import load_backend
from inversion_tui.loop.backend import TrainingPair
from inversion_tui.loop.generate import forward_prompt, generate_commands
from inversion_tui.loop.extract import extract_command
from inversion_tui.loop.invert import clean_reconstruction, inverse_prompt, invert_commands
from inversion_tui.loop.score import (
    combine, compute_components, difflib_ratio, parse_rating, rating_prompt, token_overlap,
)
from inversion_tui.hf.objectives import encode_pair
from inversion_tui.hf.train import train_lora
from inversion_tui.settings import build_settings
from inversion_tui.tasks import load_packs

SEED_MAX_LENGTH = 512
WEIGHTS = {"embed": 0.5, "overlap": 0.1, "difflib": 0.1, "self_rating": 0.3}  # every stage does work


class Stopwatch:
    """Per-stage wall time; CUDA work is synchronized before each reading."""

    def __init__(self, device: str):
        self.device = device
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str):
        self._sync()
        start = time.perf_counter()
        try:
            yield
        finally:
            self._sync()
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start

    def _sync(self) -> None:
        if self.device == "cuda":
            torch.cuda.synchronize()


def lora_state(model) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in model.named_parameters() if p.requires_grad}


def restore_lora(model, state: dict[str, torch.Tensor]) -> None:
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name in state:
                p.copy_(state[name])


# ---------------------------------------------------------------- the seed's pattern


def seed_generate(backend, prompt: str, *, temperature: float, max_new_tokens: int) -> str:
    return backend.complete([prompt], num_return_sequences=1, temperature=temperature,
                            max_new_tokens=max_new_tokens)[0][0]


def run_seed_pattern(backend, tasks, args, examples, watch: Stopwatch) -> list[TrainingPair]:
    pairs = []
    for task in tasks:
        for _ in range(args.candidates):
            with watch.stage("forward"):
                command = extract_command(seed_generate(backend, forward_prompt(backend, task, examples),
                                                        temperature=args.temperature,
                                                        max_new_tokens=args.max_new_tokens))
            with watch.stage("inverse"):
                reconstruction = clean_reconstruction(seed_generate(
                    backend, inverse_prompt(backend, command, examples), temperature=0.0,
                    max_new_tokens=args.max_new_tokens))
            with watch.stage("scoring"):
                rating = parse_rating(seed_generate(backend, rating_prompt(backend, task, command), temperature=0.0,
                                                    max_new_tokens=args.rating_tokens))
                vectors = backend.embed([task, reconstruction])
                cosine = max(0.0, sum(x * y for x, y in zip(*vectors)))
                components = {"embed": cosine, "overlap": token_overlap([task], [reconstruction])[0],
                              "difflib": difflib_ratio([task], [reconstruction])[0], "self_rating": rating}
                combine(components, WEIGHTS)
            pairs.append(TrainingPair(forward_prompt(backend, task, examples), command))
    return pairs


def seed_train(backend, pairs, *, lr: float, batch_size: int, watch: Stopwatch) -> dict:
    """The seed's training: prompt + completion padded to 512 tokens, labels over all of it."""
    model, tokenizer = backend.model, backend.tokenizer
    side = tokenizer.padding_side
    tokenizer.padding_side = "right"
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    tokens = 0
    model.train()
    try:
        with watch.stage("training"):
            for start in range(0, len(pairs), batch_size):
                batch = pairs[start : start + batch_size]
                encoded = tokenizer([p.prompt + p.completion for p in batch], padding="max_length",
                                    max_length=SEED_MAX_LENGTH, truncation=True, return_tensors="pt").to(backend.device)
                labels = encoded["input_ids"].clone()  # padding included: the seed's fault
                loss = model(**encoded, labels=labels).loss
                loss.backward()
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                tokens += encoded["input_ids"].numel()
    finally:
        model.eval()
        tokenizer.padding_side = side
    return {"steps": -(-len(pairs) // batch_size), "tokens": tokens}


# ---------------------------------------------------------------- ours


def run_ours(backend, tasks, args, examples, watch: Stopwatch) -> list[TrainingPair]:
    pairs = []
    for start in range(0, len(tasks), args.gen_batch_size):
        batch = tasks[start : start + args.gen_batch_size]
        with watch.stage("forward"):
            generated = generate_commands(backend, batch, candidates=args.candidates, temperature=args.temperature,
                                          max_new_tokens=args.max_new_tokens, examples=examples)
        flat_tasks = [task for task, per_task in zip(batch, generated) for _ in per_task]
        commands = [g.command for per_task in generated for g in per_task]
        with watch.stage("inverse"):
            reconstructions = invert_commands(backend, commands, temperature=0.0, max_new_tokens=args.max_new_tokens,
                                              examples=examples)
        with watch.stage("scoring"):  # self_rating asks for 4 new tokens, as --rating-tokens
            components = compute_components(flat_tasks, reconstructions, commands, backend=backend, weights=WEIGHTS)
            [combine(c, WEIGHTS) for c in components]
        pairs += [TrainingPair(forward_prompt(backend, t, examples), c) for t, c in zip(flat_tasks, commands)]
    return pairs


def ours_train(backend, pairs, *, lr: float, batch_size: int, seed: int, watch: Stopwatch) -> dict:
    with watch.stage("training"):
        result = train_lora(backend.model, backend.tokenizer, pairs, lr=lr, batch_size=batch_size, epochs=1,
                            seed=seed, device=backend.device, share_prefix=backend.share_prefix)
    # Tokens through the model: each batch padded to its longest example, in train_lora's order.
    encoded = [encode_pair(backend.tokenizer, p) for p in pairs]
    order = list(range(len(encoded)))
    random.Random(seed).shuffle(order)
    batches = [[encoded[i] for i in order[start : start + batch_size]] for start in range(0, len(order), batch_size)]
    return {"steps": result.steps, "tokens": sum(max(len(e.input_ids) for e in b) * len(b) for b in batches)}


# ---------------------------------------------------------------- bandwidth floor


def weight_bytes(model) -> int:
    """Bytes read per decode step: every parameter and buffer once (4-bit weights count as
    their packed storage, plus their quantization state's absmax)."""
    total = sum(p.numel() * p.element_size() for p in model.parameters())
    total += sum(b.numel() * b.element_size() for b in model.buffers())
    for module in model.modules():
        state = getattr(getattr(module, "weight", None), "quant_state", None)
        if state is not None and getattr(state, "absmax", None) is not None:
            total += state.absmax.numel() * state.absmax.element_size()
    return total


def copy_bandwidth(device: str, megabytes: int = 1024, repeats: int = 5) -> float:
    """Measured device-memory copy bandwidth in bytes/s (read + write of `megabytes`)."""
    source = torch.empty(megabytes * 2**20, dtype=torch.uint8, device=device)
    target = torch.empty_like(source)
    target.copy_(source)  # warm-up
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        target.copy_(source)
    if device == "cuda":
        torch.cuda.synchronize()
    return 2 * source.numel() * repeats / (time.perf_counter() - start)


def bandwidth_floor(model, device: str, seed_forward_seconds: float, ours_forward_seconds: float,
                    sequences: int, calls: int, tokens: int) -> dict:
    """A decode step reads all weights once, so weights / bandwidth is the fastest a step can
    be. The seed pattern makes one step per token of one sequence; ours makes one step per
    token of a whole batch (8 tasks x candidates), so its steps are fewer and can be compute-
    rather than bandwidth-bound. Both figures include each call's prefill."""
    weights, bandwidth = weight_bytes(model), copy_bandwidth(device)
    floor = weights / bandwidth
    seed_step = seed_forward_seconds / (sequences * tokens)
    ours_step = ours_forward_seconds / (calls * tokens)
    return {"weight_bytes": weights, "copy_bandwidth_gb_s": round(bandwidth / 1e9, 1),
            "floor_ms_per_step": round(floor * 1e3, 3), "seed_ms_per_step": round(seed_step * 1e3, 3),
            "seed_over_floor": round(seed_step / floor, 2), "ours_ms_per_step": round(ours_step * 1e3, 3),
            "ours_over_floor": round(ours_step / floor, 2),
            "ours_tokens_per_step": round(sequences / calls, 1)}


# ---------------------------------------------------------------- reporting


def machine() -> dict:
    info = {"python": platform.python_version(), "torch": torch.__version__, "platform": platform.platform(),
            "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads()}
    import transformers
    import peft

    info.update(transformers=transformers.__version__, peft=peft.__version__)
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def stage_table(name: str, seconds: dict, generated: dict) -> list[str]:
    lines = []
    for stage in ("forward", "inverse", "scoring", "training"):
        tokens = generated.get(stage)
        rate = f"{tokens / seconds[stage]:8.1f} tok/s" if tokens else " " * 14
        lines.append(f"  {name:5} {stage:9} {seconds[stage]:8.2f} s {rate}")
    lines.append(f"  {name:5} {'cycle':9} {sum(seconds.values()):8.2f} s")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--candidates", type=int, default=3)
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--quant", default="auto")
    parser.add_argument("--pack", default="pentest,shell")
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--rating-tokens", type=int, default=4)
    parser.add_argument("--gen-batch-size", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--gradient-checkpointing", default="auto", choices=["auto", "on", "off"])
    parser.add_argument("--memory-cap-gb", type=float,
                        help="CUDA only: cap this process's GPU memory (torch.cuda.set_per_process_memory_fraction), "
                             "to check that a run fits a smaller card, e.g. 24")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--no-ablation", action="store_true",
                        help="skip the third run (ours with the shared-prefix cache the other way)")
    args = parser.parse_args()
    if args.rating_tokens != 4:
        parser.error("--rating-tokens must stay 4: the engine's rating call asks for 4 tokens")

    if args.memory_cap_gb is not None:
        if not torch.cuda.is_available():
            parser.error("--memory-cap-gb needs a CUDA GPU")
        total = torch.cuda.get_device_properties(0).total_memory
        torch.cuda.set_per_process_memory_fraction(min(1.0, args.memory_cap_gb * 2**30 / total))
    settings = build_settings(model=args.model, quant=args.quant, pack=args.pack, output=Path("unused"),
                              seed=args.seed, gen_batch_size=args.gen_batch_size, batch_size=args.batch_size,
                              dtype=args.dtype, gradient_checkpointing=args.gradient_checkpointing)
    started = time.time()
    backend = load_backend(settings, log=lambda m: print(m, file=sys.stderr))
    backend.force_length = True
    device = backend.device
    pack = load_packs(settings.pack)
    examples = pack.examples[: settings.few_shot]
    tasks = [i.task for i in pack.sample(args.tasks, random.Random(args.seed))]
    initial = lora_state(backend.model)

    # Warm-up outside the clock: first-call allocations and kernel selection.
    backend.complete([forward_prompt(backend, tasks[0], examples)], num_return_sequences=1, temperature=0.0,
                     max_new_tokens=4)
    backend.embed(["warm up"])

    results = {}
    engine_default = backend.share_prefix  # as the engine would run on this device
    ways = [("seed", run_seed_pattern, seed_train, False), ("ours", run_ours, ours_train, engine_default)]
    flipped = "ours_no_prefix_cache" if engine_default else "ours_prefix_cache_on"
    if not args.no_ablation:  # ours with the shared-prefix cache (generation and training) the other way
        ways.append((flipped, run_ours, ours_train, not engine_default))
    for name, generate, train, share_prefix in ways:
        backend.share_prefix = share_prefix  # the seed pattern had no prefix cache
        watch = Stopwatch(device)
        if device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        backend.reseed(args.seed)
        print(f"{name}: generating, inverting, scoring {args.tasks} x {args.candidates}", file=sys.stderr)
        pairs = generate(backend, tasks, args, examples, watch)
        restore_lora(backend.model, initial)
        print(f"{name}: training on {len(pairs)} pairs", file=sys.stderr)
        kw = {"seed": args.seed} if name.startswith("ours") else {}
        training = train(backend, pairs, lr=args.lr, batch_size=args.batch_size, watch=watch, **kw)
        restore_lora(backend.model, initial)
        sequences = args.tasks * args.candidates
        generated = {"forward": sequences * args.max_new_tokens, "inverse": sequences * args.max_new_tokens,
                     "scoring": sequences * args.rating_tokens, "training": training["tokens"]}
        results[name] = {
            "seconds": {k: round(v, 3) for k, v in watch.seconds.items()},
            "cycle_seconds": round(sum(watch.seconds.values()), 3),
            "generated_tokens": generated,
            "tokens_per_second": {k: round(generated[k] / watch.seconds[k], 1) for k in generated},
            "training": training,
            "peak_gpu_memory_gb": round(torch.cuda.max_memory_allocated() / 2**30, 3) if device == "cuda" else None,
            "peak_gpu_reserved_gb": round(torch.cuda.max_memory_reserved() / 2**30, 3) if device == "cuda" else None,
        }

    seed, ours = results["seed"], results["ours"]
    ratio = {stage: round(seed["seconds"][stage] / ours["seconds"][stage], 2) for stage in seed["seconds"]}
    ratio["cycle"] = round(seed["cycle_seconds"] / ours["cycle_seconds"], 2)
    ablation = results.get(flipped)
    # seconds without the cache over seconds with it: above 1, the cache pays
    with_cache, without = (ours, ablation) if engine_default else (ablation, ours)
    prefix_effect = None if ablation is None else {
        stage: round(without["seconds"][stage] / with_cache["seconds"][stage], 2) for stage in ours["seconds"]}
    report = {
        "benchmark": "loop_speed",
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine(),
        "device": device,
        "model": args.model,
        "quant": backend.description["quant"],
        "backend": backend.description,  # dtype and gradient checkpointing as chosen
        "memory_cap_gb": args.memory_cap_gb,
        "workload": {"tasks": args.tasks, "candidates": args.candidates, "max_new_tokens": args.max_new_tokens,
                     "rating_tokens": args.rating_tokens, "gen_batch_size": args.gen_batch_size,
                     "train_batch_size": args.batch_size, "forced_lengths": True},
        "seed_pattern": seed,
        "ours": ours,
        "prefix_cache": "on" if engine_default else "off",
        flipped: ablation,
        "speedup": ratio,
        "prefix_cache_speedup": prefix_effect,
        "bandwidth_floor": bandwidth_floor(backend.model, device, seed["seconds"]["forward"], ours["seconds"]["forward"],
                                           args.tasks * args.candidates, -(-args.tasks // args.gen_batch_size),
                                           args.max_new_tokens),
        "wall_seconds": round(time.time() - started, 1),
    }
    print(f"loop_speed: {args.model} ({backend.description['quant']}) on {device}, "
          f"{args.tasks} tasks x {args.candidates} candidates, {args.max_new_tokens} tokens forced")
    for line in stage_table("seed", seed["seconds"], seed["generated_tokens"]):
        print(line)
    for line in stage_table("ours", ours["seconds"], ours["generated_tokens"]):
        print(line)
    print("  speedup " + ", ".join(f"{k} {v}x" for k, v in ratio.items()))
    floor = report["bandwidth_floor"]
    print(f"  decode step floor {floor['floor_ms_per_step']} ms ({floor['weight_bytes'] / 1e9:.2f} GB of weights at "
          f"{floor['copy_bandwidth_gb_s']} GB/s copy); seed {floor['seed_ms_per_step']} ms/step "
          f"({floor['seed_over_floor']}x, 1 token/step), ours {floor['ours_ms_per_step']} ms/step "
          f"({floor['ours_over_floor']}x, {floor['ours_tokens_per_step']} tokens/step)")
    if device == "cuda":
        print(f"  peak GPU memory: seed {seed['peak_gpu_memory_gb']} GB, ours {ours['peak_gpu_memory_gb']} GB "
              f"allocated, {ours['peak_gpu_reserved_gb']} GB reserved (cap {args.memory_cap_gb or 'none'})")
    if ablation is not None:
        for line in stage_table("no-pc" if engine_default else "pc-on", ablation["seconds"],
                                ablation["generated_tokens"]):
            print(line)
        print("  shared-prefix cache: " + ", ".join(f"{k} {v}x" for k, v in prefix_effect.items()))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2))
        print(f"  written to {args.out}")


if __name__ == "__main__":
    main()
