"""`inversion-tui score` and `inversion-tui eval`: one command scored, or a model measured on
held-out tasks. Their options are settings (cli/flags.py): the run's that they share, and
eval's own (settings.EvalSettings)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from cli.errors import user_errors
from cli.flags import argument, option, setting_option, weights_options, with_options
from inversion_tui.errors import SettingsError
from inversion_tui.settings import EvalSettings, RunSettings, build, build_settings, command_line_weights

SCORE_SHARES = ("model", "embedder", "quant", "threshold", "allow_flagged", "max_new_tokens", "verifier",
                "placeholders")
"""The run settings `score` takes as `run` has them: how the command is inverted and judged."""
EVAL_SHARES = ("model", "embedder", "quant", "max_new_tokens", "verifier", "placeholders")
"""The run settings `eval` takes as `run` has them; its prompts' pack, batch size, sampling
temperature and seed are spelled or said its own way (EVAL_FLAGS, the options below)."""
EVAL_FLAGS = {"pack": "--prompt-pack", "gen_batch_size": "--batch-size"}
"""eval's spelling of run settings' flags (--pack names where its tasks come from)."""
PROMPT_PACK = "Pack whose few-shot examples the prompts use (as in the run)."
JSON = option("as_json", bool, False, "--json", help="Print one JSON object.")


@with_options(argument("task", str, "The task, in words."),
              argument("command", str, "The command to score (never executed)."), JSON,
              setting_option(RunSettings, "pack", help=PROMPT_PACK),
              *(setting_option(RunSettings, name) for name in SCORE_SHARES), *weights_options(self_rating=False))
def score(**values: Any) -> None:
    """Invert one command and show the reconstruction and every score component."""
    from inversion_tui.backends import load_backend
    from inversion_tui.score_report import render_score, score_one
    from inversion_tui.tasks import load_packs

    task, command, as_json = values.pop("task"), values.pop("command"), values.pop("as_json")
    with user_errors():
        weights = command_line_weights(values.pop("weights"), False, values.pop("mask_literals"))
        settings = build_settings(**values, weights=weights, output=Path("."))
        examples = load_packs(settings.pack).examples[: settings.few_shot]
        backend = load_backend(settings)
        result = score_one(backend, task, command, settings, examples)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
    else:
        render_score(result)


def checkpoint_of(adapter: Path) -> Path:
    """--adapter: a checkpoint, or a run directory standing for its best adapter (by the run's
    --patience-on), which is often not its last."""
    from inversion_tui.loop.runlog import PROGRESS
    from inversion_tui.loop.stopping import best_of_run

    if (adapter / "adapter_config.json").is_file():
        return adapter
    if not (adapter / PROGRESS).is_file():
        raise SettingsError(f"--adapter {adapter}: neither a LoRA checkpoint (no adapter_config.json) nor a run "
                            "directory (no progress.json)")
    best, by = best_of_run(adapter)
    if best is None:
        raise SettingsError(f"--adapter {adapter}: by {by}, no adapter of this run beat the base model; name one "
                            "of its checkpoint_cycle_N folders to evaluate it anyway")
    if not (adapter / best / "adapter_config.json").is_file():
        raise SettingsError(f"--adapter {adapter}: its best adapter {best} is missing (no adapter_config.json)")
    typer.echo(f"--adapter {adapter}: its best adapter by {by}, {best}", err=True)
    return adapter / best


def hints_index(opts: EvalSettings):
    """--hints docs's index, checked before the model loads; None without --hints docs."""
    from inversion_tui.manuals.index import default_docs, index_path

    if opts.hints != "docs":
        return None
    docs = default_docs()
    if docs is None:
        raise SettingsError(f"--hints docs: no documentation index at {index_path()}; build it with `make setup` "
                            "(or `inversion-tui docs --build`)")
    return docs


@with_options(*(setting_option(EvalSettings, name) for name in EvalSettings.model_fields),
              setting_option(RunSettings, "pack", flag=EVAL_FLAGS["pack"], param="prompt_pack", help=PROMPT_PACK),
              setting_option(RunSettings, "gen_batch_size", flag=EVAL_FLAGS["gen_batch_size"], default=16,
                             help="Tasks per batched generate call."),
              setting_option(RunSettings, "temperature", help="Sampling temperature of --samples (0 means greedy)."),
              setting_option(RunSettings, "seed", help="Seeds sampling tasks from a pack and --samples."),
              *(setting_option(RunSettings, name) for name in EVAL_SHARES), *weights_options(self_rating=False), JSON)
def evaluate(**values: Any) -> None:
    """Held-out accuracy of a model (and adapter): utility, token F1, exact match, with 95% CIs.
    With --paired-with, the change against an earlier evaluation of the same tasks, task by task.
    With --samples N, the verification gap: what picking one of N sampled commands by the score
    gives beside greedy, a random pick and the oracle, and each component's AUROC."""
    import random

    from inversion_tui.backends import load_backend
    from inversion_tui.eval_sets import load_eval_rows, load_intercode, load_tasks_file
    from inversion_tui.hf.models import check_names
    from inversion_tui.loop.components import component_names
    from inversion_tui.loop.evaluation import EvalTask, evaluate_model, sample_records
    from inversion_tui.loop.gap import pick_table, verification_gap
    from inversion_tui.loop.metrics import paired_difference
    from inversion_tui.loop.runlog import append_jsonl
    from inversion_tui.loop.seeding import derive_seed
    from inversion_tui.tasks import load_packs

    as_json = values.pop("as_json")
    with user_errors():
        opts = build(EvalSettings, **{name: values.pop(name) for name in EvalSettings.model_fields})
        adapter = checkpoint_of(opts.adapter) if opts.adapter is not None else None
        earlier = load_eval_rows(opts.paired_with) if opts.paired_with is not None else None  # before the model
        seed = values["seed"]
        if opts.tasks_file is not None:
            tasks = load_tasks_file(opts.tasks_file)
        elif opts.suite is not None:
            tasks = load_intercode()
        else:
            rng = random.Random(derive_seed(seed, "eval", opts.pack))
            tasks = [EvalTask(i.task, i.references, i.template_id)
                     for i in load_packs(opts.pack).sample(opts.limit or 100, rng)]
        tasks = tasks[: opts.limit] if opts.limit else tasks
        if earlier is not None and not {(r["index"], r["task"]) for r in earlier} & set(enumerate(t.task for t in tasks)):
            raise SettingsError(f"--paired-with {opts.paired_with}: none of its rows are these tasks (same source, "
                                "--limit and --seed?)")
        docs = hints_index(opts)
        pack = values.pop("prompt_pack")
        weights = command_line_weights(values.pop("weights"), False, values.pop("mask_literals"))
        settings = build_settings(EVAL_FLAGS, **values, pack=pack, weights=weights, output=Path("."),
                                  eval_samples=opts.samples)
        examples = load_packs(settings.pack).examples[: settings.few_shot]
        check_names(settings.model, settings.embedder)
        backend = load_backend(settings, log=lambda m: typer.echo(m, err=True))
        if adapter is not None:
            backend.load_adapter(adapter)
        hints = None
        if docs is not None:
            from inversion_tui.manuals.hints import DocHints

            hints = DocHints(docs, backend.embed, opts.hints_k)
        summary, rows = evaluate_model(backend, tasks, examples=examples, weights=settings.weights,
                                       batch_size=settings.gen_batch_size, max_new_tokens=settings.max_new_tokens,
                                       verifier=settings.verifier, placeholders=settings.placeholders, hints=hints)
        records = [row.record(index, **({"hints": opts.hints} if hints else {})) for index, row in enumerate(rows)]
        if opts.save_rows is not None:
            append_jsonl(opts.save_rows, records)
        gap = None
        if opts.samples:
            backend.reseed(derive_seed(seed, "eval-samples"))
            sampled = sample_records(backend, tasks, samples=opts.samples, temperature=settings.temperature,
                                     examples=examples, weights=settings.weights, batch_size=settings.gen_batch_size,
                                     max_new_tokens=settings.max_new_tokens, verifier=settings.verifier,
                                     placeholders=settings.placeholders, hints=hints)
            if opts.save_samples is not None:
                append_jsonl(opts.save_samples, sampled)
            gap = verification_gap(records, sampled, components=component_names(), seed=seed)
            gap.pick_table = pick_table(sampled)  # what each selection rule would train on
    summary = {"model": settings.model, "adapter": str(adapter) if adapter else None, "source": opts.sources[0],
               "verifier": settings.verifier, "placeholders": settings.placeholders,
               "hints": f"docs ({opts.hints_k} a task; index {docs.description})" if hints else None,
               **summary, **(gap.to_json() if gap else {})}
    if earlier is not None:
        summary["paired"] = {"with": str(opts.paired_with), **paired_difference(earlier, records).to_json()}
    if as_json:
        typer.echo(json.dumps(summary))
        return
    from inversion_tui.console import eval_table, gap_tables, report_console

    console = report_console()
    console.print(eval_table(summary))
    for table in gap_tables(gap) if gap else ():
        console.print(table)
