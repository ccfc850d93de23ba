"""`inversion-tui run`, `score`, `eval` and `inspect`.

Every error a user can cause ends as one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Optional

import typer

from cli import docs_commands
from cli.errors import EXIT_USAGE, OneLineErrors, user_errors
from inversion_tui.errors import SettingsError
from inversion_tui.loop.progress import Progress
from inversion_tui.loop.stopping import EarlyStopping
from inversion_tui.loop.score import default_weights, mask_weights
from inversion_tui.settings import SELF_RATING_ON_WEIGHT, RunSettings, build_settings, parse_weights

# typer 0.29 prints `<bool>` beside every on/off flag in --help (its own --help too), as if the
# flag took a value; a flag takes none.
_display_type_rich = typer.core.TyperOption.display_type_rich
typer.core.TyperOption.display_type_rich = lambda self, ctx: None if self.is_flag else _display_type_rich(self, ctx)

app = typer.Typer(
    cls=OneLineErrors,
    add_completion=False,
    no_args_is_help=True,
    help="Self-improvement via inversion: task -> command -> reconstructed task, scored and fine-tuned.",
)

WEIGHTS_HELP = ("Component weights, name=value,... (the others 0); default: "
                + ",".join(f"{name}={value:g}" for name, value in default_weights().items() if value > 0))


def default(name: str):
    """A flag's default is its setting's (settings.RunSettings): one home for both."""
    return RunSettings.model_fields[name].default


def _weights(weights: Optional[str], self_rating: bool, mask_literals: bool = False) -> dict[str, float]:
    result = parse_weights(weights or "")
    if self_rating and result["self_rating"] <= 0:
        result["self_rating"] = SELF_RATING_ON_WEIGHT
    return mask_weights(result) if mask_literals else result


def counted(names) -> str:
    """`a, b ×4, c`: names in first-seen order, each once with its count (a pool's tasks share
    their program's name, and 230 of them would otherwise be listed one by one)."""
    return ", ".join(name if n == 1 else f"{name} ×{n}" for name, n in Counter(names).items())


@contextlib.contextmanager
def _stop_on_ctrl_c(control, say):
    """First Ctrl-C: stop at the next batch boundary (work is saved). Second: stop now."""

    def handler(signum, frame):
        if control.stop_requested:
            raise KeyboardInterrupt
        control.request_stop()
        say("stopping at the next batch boundary (Ctrl-C again to force)")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        # After a stop the work is saved and the process is leaving with 130: a further Ctrl-C
        # during teardown (torch's can take a moment) must not kill it by signal instead.
        signal.signal(signal.SIGINT, signal.SIG_IGN if control.stop_requested else previous)


@app.command()
def run(
    ctx: typer.Context,
    cycles: int = typer.Option(default("cycles"), help="Before -> train -> after cycles.", rich_help_panel="Loop"),
    tasks: int = typer.Option(default("tasks"), help="Tasks sampled per pass.", rich_help_panel="Loop"),
    candidates: int = typer.Option(default("candidates"), help="Candidate commands per task.", rich_help_panel="Loop"),
    threshold: float = typer.Option(default("threshold"), help="Accept candidates scoring at least this (0-1); "
                                                               "the floor under a per-task --select.", rich_help_panel="Scoring"),
    select: str = typer.Option(default("select"), help="threshold | best-per-task | top-k: all above the "
                                                       "threshold, or only each task's best (k best) above it.",
                               rich_help_panel="Scoring"),
    select_k: int = typer.Option(default("select_k"), "--select-k", help="How many of a task's candidates top-k "
                                                                         "keeps.", rich_help_panel="Scoring"),
    temperature: float = typer.Option(default("temperature"), help="Forward sampling temperature (0 = greedy).", rich_help_panel="Loop"),
    inverse_temperature: float = typer.Option(default("inverse_temperature"), help="Inverse pass temperature (0 = greedy).", rich_help_panel="Loop"),
    model: str = typer.Option(default("model"), help="Bundled name, local directory or hub id.", rich_help_panel="Model"),
    embedder: str = typer.Option(default("embedder"), help="Sentence-transformers model for the embed component.", rich_help_panel="Model"),
    quant: str = typer.Option(default("quant"), help="auto | none | 4bit (NF4; auto = 4bit only on a GPU the dense model "
                                           "would crowd, none otherwise).", rich_help_panel="Model"),
    dtype: str = typer.Option(default("dtype"), help="auto | float32 | bfloat16 | float16 (auto = bf16 on GPUs that have it, "
                                           "else fp16; fp32 on CPU).", rich_help_panel="Model"),
    gradient_checkpointing: str = typer.Option(default("gradient_checkpointing"), "--gradient-checkpointing",
                                               help="auto | on | off (auto = on only where a training batch's "
                                                    "activations would not fit on the GPU).",
                                               rich_help_panel="Model"),
    output: Optional[Path] = typer.Option(default("output"), help="Run directory (default ./output/<model>-<time>).", rich_help_panel="Output"),
    pack: str = typer.Option(default("pack"), help="Task pack name(s) or YAML path(s), comma-separated.", rich_help_panel="Loop"),
    tasks_from: Optional[str] = typer.Option(default("tasks_from"), "--tasks-from",
                                             help="Where tasks come from: cheat-basics (137 tasks for basic "
                                                  "programs), cheat (~900 tasks, ~170 programs), a file (one task "
                                                  "per line), or packs (--pack's templates). Examples stay --pack's.",
                                             rich_help_panel="Loop"),
    lr: float = typer.Option(default("lr"), help="LoRA learning rate.", rich_help_panel="Model"),
    objective: str = typer.Option(default("objective"), help="sft | dpo: train on accepted commands, or on each "
                                                             "preferred to its task's lowest-scoring one.",
                                  rich_help_panel="Model"),
    dpo_beta: float = typer.Option(default("dpo_beta"), "--dpo-beta", help="DPO's beta.", rich_help_panel="Model"),
    patience: int = typer.Option(default("patience"), help="Stop when --patience-on has not improved for this many "
                                                           "cycles (0: never); progress.json names the best adapter.",
                                 rich_help_panel="Loop"),
    patience_on: str = typer.Option(default("patience_on"), "--patience-on",
                                    help="score | consensus | a held-out set's name (then report on another).",
                                    rich_help_panel="Loop"),
    replay: float = typer.Option(default("replay"), help="Base-model greedy commands on fresh tasks added per training "
                                                         "example (0.5: one per two), an anchor to the base.",
                                 rich_help_panel="Model"),
    replay_from: Optional[str] = typer.Option(default("replay_from"), "--replay-from",
                                              help="Where --replay draws its tasks: cheat or a file, as --tasks-from "
                                                   "(default: the run's own tasks).", rich_help_panel="Model"),
    train_from: str = typer.Option(default("train_from"), "--train-from",
                                   help="last | base: each step goes on from the last adapter, or starts afresh from "
                                        "the base model on everything accepted so far.", rich_help_panel="Model"),
    batch_size: int = typer.Option(default("batch_size"), help="Training batch size.", rich_help_panel="Model"),
    gen_batch_size: int = typer.Option(default("gen_batch_size"), help="Tasks per batched generate call.", rich_help_panel="Model"),
    max_new_tokens: int = typer.Option(default("max_new_tokens"), help="Token budget per generation.", rich_help_panel="Loop"),
    seed: int = typer.Option(default("seed"), help="Random seed.", rich_help_panel="Loop"),
        weights: Optional[str] = typer.Option(None, help=WEIGHTS_HELP, rich_help_panel="Scoring"),
        self_rating: bool = typer.Option(False, "--self-rating", help="Add the model's own 0-10 rating to the score.", rich_help_panel="Scoring"),
        mask_literals: bool = typer.Option(False, "--mask-literals",
                                       help="Score overlap and difflib with IPs, ports, paths, URLs masked.", rich_help_panel="Scoring"),
    allow_flagged: bool = typer.Option(default("allow_flagged"), "--allow-flagged",
                                       help="Let guard-flagged candidates be accepted and trained on.", rich_help_panel="Scoring"),
    verifier: str = typer.Option(default("verifier"), help="base | policy: whose weights invert and score (base = the adapter "
                                              "off while scoring, so the scorer cannot drift).",
                                 rich_help_panel="Scoring"),
    placeholders: bool = typer.Option(default("placeholders"), "--placeholders", help="The inverter reads typed placeholders for "
                                                                    "literals (<IP>, <PATH>, ...).",
                                      rich_help_panel="Scoring"),
        headless: bool = typer.Option(False, "--headless", help="Rich progress bars instead of the TUI.", rich_help_panel="Output"),
        verbose: bool = typer.Option(False, "--verbose", "-v", help="Print every scored candidate.", rich_help_panel="Output"),
        resume: Optional[Path] = typer.Option(None, "--resume", help="Continue a stopped or killed run directory.", rich_help_panel="Output"),
    eval_file: Optional[Path] = typer.Option(default("eval_file"), "--eval-file", help="Held-out JSONL tasks, evaluated every cycle.", rich_help_panel="Evaluation"),
        eval_suite: Optional[str] = typer.Option(None, "--eval-suite",
                                             help="Held-out suite(s) evaluated every cycle, comma-separated: "
                                                  "intercode, holdout.", rich_help_panel="Evaluation"),
    holdout: float = typer.Option(default("holdout"), "--holdout", help="Fraction of the training pool's templates kept out of training, for --eval-suite holdout (in a cheat pool a template is a whole program's tasks).", rich_help_panel="Evaluation"),
    eval_limit: Optional[int] = typer.Option(default("eval_limit"), "--eval-limit", help="Evaluate only the first N held-out tasks.", rich_help_panel="Evaluation"),
    eval_samples: int = typer.Option(default("eval_samples"), "--eval-samples", help="Also sample N commands per held-out task each "
                                                               "cycle: the verification gap (Scorer tab).",
                                     rich_help_panel="Evaluation"),
) -> None:
    """Run the inversion loop (or --resume one) in the workbench, or --headless.

    \b
    Examples (a first look on a CPU takes minutes; the third needs a GPU):
      inversion-tui run --cycles 2 --tasks 8 --candidates 3
      inversion-tui run --headless --eval-suite intercode --eval-limit 50
      inversion-tui run --model mistralai/Mistral-7B-Instruct-v0.2 --quant 4bit
      inversion-tui run --resume output/RUN_DIRECTORY
    """
    from inversion_tui.console import HeadlessConsole
    from inversion_tui.eval_sets import eval_sets_for
    from inversion_tui.backends import load_backend
    from inversion_tui.loop.control import RunControl
    from inversion_tui.loop.engine import Engine
    from inversion_tui.loop.runlog import RunLog
    from inversion_tui.hf.models import check_names
    from inversion_tui.task_pools import run_pools

    with user_errors():
        values = dict(
            cycles=cycles, tasks=tasks, candidates=candidates, threshold=threshold, select=select, select_k=select_k, temperature=temperature,
            inverse_temperature=inverse_temperature, model=model, embedder=embedder, quant=quant, dtype=dtype,
            gradient_checkpointing=gradient_checkpointing, output=output,
            pack=pack, tasks_from=tasks_from, lr=lr, objective=objective, dpo_beta=dpo_beta, train_from=train_from, patience=patience, patience_on=patience_on, replay=replay, replay_from=replay_from, batch_size=batch_size, gen_batch_size=gen_batch_size, max_new_tokens=max_new_tokens,
            seed=seed, weights=_weights(weights, self_rating, mask_literals), eval_file=eval_file,
            eval_suite=None if eval_suite is None else [p.strip() for p in eval_suite.split(",") if p.strip()],
            eval_limit=eval_limit, allow_flagged=allow_flagged, holdout=holdout, verifier=verifier,
            placeholders=placeholders, eval_samples=eval_samples,
        )
        if resume is not None:
            settings, runlog, resume_point = _open_resume(ctx, resume, values)
            closed = _nothing_to_resume(settings, resume_point, Progress.read(runlog.directory))
            if closed:  # the run is over: nothing to load a model for
                runlog.release_lock()
                typer.echo(f"{runlog.directory} {closed}; nothing to resume (inversion-tui inspect "
                           f"{runlog.directory} shows it)", err=True)
                return
        else:
            settings = build_settings(**values)
            resume_point = None
        pools = run_pools(settings)  # fail on a bad pack or pool before minutes of model loading
        task_pack, heldout_pack, replay_pack = pools.training, pools.heldout, pools.replay
        if heldout_pack is not None:
            typer.echo(f"holding out {len(heldout_pack.templates)} of "
                       f"{len(task_pack.templates) + len(heldout_pack.templates)} templates from training: "
                       + counted(t.id for t in heldout_pack.templates), err=True)
        eval_sets = eval_sets_for(settings, heldout_pack)  # and on a bad held-out file
        check_names(settings.model, settings.embedder)
        if resume is None:
            runlog = RunLog.create(settings.output)
        if not headless and not sys.stdout.isatty():
            typer.echo("note: stdout is not a terminal; running headless", err=True)
            headless = True
        try:
            if not headless:
                _run_tui(settings, task_pack, runlog, resume_point, eval_sets, replay_pack)
                return
            with HeadlessConsole(verbose=verbose) as console:
                backend = load_backend(settings, log=console.log)
                control = RunControl.for_run(settings, resume_point)
                engine = Engine(settings, backend, task_pack, runlog, emit=console, control=control,
                                resume=resume_point, eval_sets=eval_sets, replay_pack=replay_pack)
                with _stop_on_ctrl_c(control, console.log):
                    try:
                        status = engine.run()
                    except KeyboardInterrupt:  # the second Ctrl-C: progress.json says stopped
                        typer.echo(f"forced stop; scored candidates are saved in {runlog.directory}; "
                                   f"inversion-tui run --resume {runlog.directory} goes on", err=True)
                        raise typer.Exit(130) from None
        finally:
            runlog.release_lock()  # also when loading fails; a no-op once the engine released it
            if resume is None:
                runlog.discard_if_empty()  # loading failed before the run wrote a file
    if status == "stopped":
        raise typer.Exit(130)


def _nothing_to_resume(settings: RunSettings, point, progress: Progress) -> str | None:
    """Why a finished run has nothing left to run, or None where it has."""
    if progress.status != "finished":
        return None  # stopped or crashed after its last cycle: the resume closes it
    if point.cycle > settings.cycles:
        return (f"has completed all {settings.cycles} of its cycles (--cycles {settings.cycles + 1} "
                "or more adds cycles)")
    if EarlyStopping(settings.patience, settings.patience_on).exhausted(progress.cycles, progress.evaluations):
        return f"stopped early: {settings.patience_on} had not improved for {settings.patience} cycle(s)"
    return None


def _open_resume(ctx: typer.Context, directory: Path, values: dict):
    """Settings, run log and resume point of an existing run. Only flags given on this command
    line count as changes; the others keep the run's saved values."""
    from inversion_tui.loop.resume import open_resume

    def given(name: str) -> bool:
        # by name: typer vendors its own click, whose ParameterSource is not click.core's
        source = ctx.get_parameter_source(name)
        return source is not None and source.name == "COMMANDLINE"

    if given("output"):
        raise SettingsError("--output and --resume do not go together: a resumed run stays in its directory")
    explicit = {name: value for name, value in values.items() if given(name)}
    if given("self_rating") or given("mask_literals"):
        explicit["weights"] = values["weights"]
    return open_resume(directory, explicit)


def _run_tui(settings, task_pack, runlog, resume_point=None, eval_sets=None, replay_pack=None) -> None:
    from inversion_tui.tui.app import create_app

    tui = create_app(settings, task_pack, runlog, resume=resume_point, eval_sets=eval_sets, replay_pack=replay_pack)
    tui.run()
    if not tui.forced:
        try:
            tui.wait_for_engine(lambda message: typer.echo(message, err=True))
        except KeyboardInterrupt:
            if tui.engine is not None:
                tui.engine.abandon()
            tui.forced = True
    if tui.forced:
        # Forced quit while the engine is inside a model call: the worker thread cannot be
        # interrupted, and everything scored is already on disk (fsynced per batch).
        runlog.release_lock()
        if tui.engine is None and resume_point is None:
            runlog.discard_if_empty()  # quit while the model was still loading: nothing was written
        if runlog.directory.exists():
            typer.echo(f"forced quit; scored candidates are saved in {runlog.directory}; "
                       f"inversion-tui run --resume {runlog.directory} goes on", err=True)
        else:
            typer.echo("forced quit while the model was loading; nothing was written", err=True)
        sys.stderr.flush()
        os._exit(130)  # not sys.exit: interpreter teardown under a thread inside torch can crash
    if tui.failure:
        typer.echo(f"error: {tui.failure}", err=True)
        raise typer.Exit(EXIT_USAGE if tui.return_code == EXIT_USAGE else 1)
    if tui.return_code:  # the app itself crashed (Textual printed the traceback); the run was stopped
        typer.echo(f"error: the workbench crashed; the run is {tui.finished_status or 'stopped'}, outputs in "
                   f"{runlog.directory} (inversion-tui run --resume {runlog.directory} goes on)", err=True)
        raise typer.Exit(tui.return_code)
    from inversion_tui.console import closing_lines

    for line in closing_lines(tui.finished_status or "stopped", str(runlog.directory), tui.state.history,
                              tui.state.evaluations, *tui.finished_best):
        typer.echo(line, err=True)


@app.command()
def score(
    task: str = typer.Argument(..., help="The task, in words."),
    command: str = typer.Argument(..., help="The command to score (never executed)."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    model: str = typer.Option(default("model"), help="Bundled name, local directory or hub id."),
    embedder: str = typer.Option(default("embedder"), help="Sentence-transformers model."),
    quant: str = typer.Option(default("quant"), help="auto | none | 4bit."),
    pack: str = typer.Option(default("pack"), help="Pack whose few-shot examples the inverse prompt uses."),
    threshold: float = typer.Option(default("threshold"), help="Threshold for the `accepted` verdict."),
        weights: Optional[str] = typer.Option(None, help=WEIGHTS_HELP),
        mask_literals: bool = typer.Option(False, "--mask-literals", help="Weight the literal-masked overlap/difflib."),
    allow_flagged: bool = typer.Option(default("allow_flagged"), "--allow-flagged", help="A guard flag does not reject."),
    max_new_tokens: int = typer.Option(default("max_new_tokens"), help="Token budget for the reconstruction."),
    verifier: str = typer.Option(default("verifier"), help="base | policy (as for run; without an adapter the same)."),
    placeholders: bool = typer.Option(default("placeholders"), "--placeholders", help="The inverter reads typed placeholders "
                                                                    "for literals."),
) -> None:
    """Invert one command and show the reconstruction and every score component."""
    from inversion_tui.backends import load_backend
    from inversion_tui.score_report import score_one
    from inversion_tui.tasks import load_packs

    with user_errors():
        settings = build_settings(
            model=model, embedder=embedder, quant=quant, pack=pack, threshold=threshold,
            weights=_weights(weights, False, mask_literals), max_new_tokens=max_new_tokens, output=Path("."),
            allow_flagged=allow_flagged, verifier=verifier, placeholders=placeholders,
        )
        examples = load_packs(settings.pack).examples[: settings.few_shot]
        backend = load_backend(settings)
        result = score_one(backend, task, command, settings, examples)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
    else:
        from inversion_tui.score_report import render_score

        render_score(result)


def _checkpoint_of(adapter: Path) -> Path:
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


@app.command("eval")
def eval_command(
        tasks_file: Optional[Path] = typer.Option(None, "--tasks-file", help="JSONL: {\"task\": ..., \"references\": [...]}"),
        suite: Optional[str] = typer.Option(None, "--suite", help="A bundled suite: intercode (300 NL->bash tasks)."),
        pack: Optional[str] = typer.Option(None, "--pack", help="Sample tasks (with references) from a task pack."),
    model: str = typer.Option(default("model"), help="Bundled name, local directory or hub id."),
        adapter: Optional[Path] = typer.Option(None, "--adapter", help="A LoRA checkpoint directory of a run, or a "
                                                                       "run directory: its best adapter."),
    embedder: str = typer.Option(default("embedder"), help="Sentence-transformers model for the intrinsic score."),
    quant: str = typer.Option(default("quant"), help="auto | none | 4bit."),
    prompt_pack: str = typer.Option(default("pack"), help="Pack whose few-shot examples the prompts use (as in the run)."),
        limit: Optional[int] = typer.Option(None, help="Evaluate the first N tasks (a pack samples N, default 100)."),
        batch_size: int = typer.Option(16, help="Tasks per batched generate call."),
    max_new_tokens: int = typer.Option(default("max_new_tokens"), help="Token budget per generation."),
        weights: Optional[str] = typer.Option(None, help="Weights of the intrinsic score, as for run."),
    seed: int = typer.Option(default("seed"), help="Seed for sampling tasks from a pack."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
        save_rows: Optional[Path] = typer.Option(None, "--save-rows", help="Write one JSONL row per task (command, "
                                                                       "reconstruction, score, metrics)."),
        paired_with: Optional[Path] = typer.Option(None, "--paired-with", help="Rows of an earlier --save-rows on the "
                                                                           "same tasks: adds the paired change."),
        samples: int = typer.Option(0, "--samples", help="Also sample N commands per task: the verification gap "
                                                     "(best of N by the score, random, oracle) beside greedy."),
    temperature: float = typer.Option(default("temperature"), help="Sampling temperature of --samples (as run's)."),
    verifier: str = typer.Option(default("verifier"), help="base | policy: whose weights score (see run)."),
    placeholders: bool = typer.Option(default("placeholders"), "--placeholders", help="The inverter reads typed placeholders "
                                                                    "for literals (see run)."),
        save_samples: Optional[Path] = typer.Option(None, "--save-samples", help="Write one JSONL row per sample "
                                                                             "(components, flags, metrics)."),
) -> None:
    """Held-out accuracy of a model (and adapter): utility, token F1, exact match, with 95% CIs.
    With --paired-with, the change against an earlier evaluation of the same tasks, task by task.
    With --samples N, the verification gap: what picking one of N sampled commands by the score
    gives beside greedy, a random pick and the oracle, and each component's AUROC."""
    import random

    from inversion_tui.loop.evaluation import EvalTask, evaluate_model, sample_records
    from inversion_tui.loop.gap import verification_gap
    from inversion_tui.loop.score import component_names
    from inversion_tui.eval_sets import load_eval_rows, load_intercode, load_tasks_file
    from inversion_tui.loop.metrics import paired_difference
    from inversion_tui.backends import load_backend
    from inversion_tui.loop.runlog import append_jsonl
    from inversion_tui.loop.seeding import derive_seed
    from inversion_tui.hf.models import check_names
    from inversion_tui.tasks import load_packs

    with user_errors():
        sources = [f"{name} {value}" for name, value in (("--tasks-file", tasks_file), ("--suite", suite), ("--pack", pack))
                   if value]  # the flag and what it named: the table's title says where the tasks came from
        if len(sources) != 1:
            raise SettingsError("give exactly one of --tasks-file, --suite, --pack")
        if limit is not None and limit < 1:
            raise SettingsError("--limit must be at least 1")
        if adapter is not None:
            adapter = _checkpoint_of(adapter)
        for flag, path in (("--save-rows", save_rows), ("--save-samples", save_samples)):
            if path is not None and path.exists():
                raise SettingsError(f"{flag} {path}: already exists (remove it or name another file)")
            if path is not None and not path.parent.is_dir():
                raise SettingsError(f"{flag} {path}: no such directory {path.parent}")
        if samples < 0 or samples > 64:
            raise SettingsError("--samples must be between 0 and 64")
        if save_samples is not None and not samples:
            raise SettingsError("--save-samples needs --samples N")
        earlier = load_eval_rows(paired_with) if paired_with is not None else None  # before minutes of model
        if tasks_file is not None:
            tasks = load_tasks_file(tasks_file)
        elif suite is not None:
            if suite != "intercode":
                raise SettingsError(f"--suite {suite!r}: unknown suite (known: intercode)")
            tasks = load_intercode()
        else:
            rng = random.Random(derive_seed(seed, "eval", pack))
            tasks = [EvalTask(i.task, i.references, i.template_id) for i in load_packs(pack).sample(limit or 100, rng)]
        tasks = tasks[:limit] if limit else tasks
        if earlier is not None and not {(r["index"], r["task"]) for r in earlier} & set(enumerate(t.task for t in tasks)):
            raise SettingsError(f"--paired-with {paired_with}: none of its rows are these tasks (same source, "
                                "--limit and --seed?)")
        settings = build_settings(model=model, embedder=embedder, quant=quant, pack=prompt_pack,
                                  weights=_weights(weights, False), max_new_tokens=max_new_tokens,
                                  gen_batch_size=batch_size, output=Path("."), temperature=temperature,
                                  verifier=verifier, placeholders=placeholders, eval_samples=samples, seed=seed)
        examples = load_packs(settings.pack).examples[: settings.few_shot]
        check_names(settings.model, settings.embedder)
        backend = load_backend(settings, log=lambda m: typer.echo(m, err=True))
        if adapter is not None:
            backend.load_adapter(adapter)
        summary, rows = evaluate_model(backend, tasks, examples=examples, weights=settings.weights,
                                       batch_size=settings.gen_batch_size, max_new_tokens=settings.max_new_tokens,
                                       verifier=settings.verifier, placeholders=settings.placeholders)
        records = [row.record(index) for index, row in enumerate(rows)]
        if save_rows is not None:
            append_jsonl(save_rows, records)
        gap = {}
        if samples:
            backend.reseed(derive_seed(seed, "eval-samples"))
            sampled = sample_records(backend, tasks, samples=samples, temperature=settings.temperature,
                                     examples=examples, weights=settings.weights, batch_size=settings.gen_batch_size,
                                     max_new_tokens=settings.max_new_tokens, verifier=settings.verifier,
                                     placeholders=settings.placeholders)
            if save_samples is not None:
                append_jsonl(save_samples, sampled)
            gap = verification_gap(records, sampled, components=component_names(), seed=seed)
    summary = {"model": model, "adapter": str(adapter) if adapter else None, "source": sources[0],
               "verifier": settings.verifier, "placeholders": settings.placeholders, **summary, **gap}
    if earlier is not None:
        summary["paired"] = {"with": str(paired_with), **paired_difference(earlier, records)}
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        from inversion_tui.console import eval_table, gap_tables

        from rich.console import Console

        console = Console()
        console.print(eval_table(summary))
        if samples:
            for table in gap_tables(gap):
                console.print(table)


@app.command()
def inspect(
    run_dir: Path = typer.Argument(..., help="A run directory: finished, stopped, crashed or running."),
        rescore: bool = typer.Option(False, "--rescore", help="Recompute guards and text components with today's "
                                                          "code (no model; embed and self_rating kept)."),
) -> None:
    """Open a run in the workbench from its files alone: inspect, filter, re-weight, mark."""
    from inversion_tui.replay import load_run, rescore_text
    from inversion_tui.tui.app import create_replay_app

    with user_errors():
        run = load_run(run_dir)
        if rescore:
            rescore_text(run)
        tui = create_replay_app(run)
    if not sys.stdout.isatty():
        typer.echo("error: inspect needs a terminal (stdout is not one)", err=True)
        raise typer.Exit(EXIT_USAGE)
    tui.run()
    if tui.failure:
        typer.echo(f"error: {tui.failure}", err=True)
        raise typer.Exit(1)
    if tui.return_code:  # the app crashed (Textual printed why); a replay writes nothing, so nothing is lost
        raise typer.Exit(tui.return_code)


# Registered last: they come after the loop's own commands in --help.
app.command()(docs_commands.explain)
app.command()(docs_commands.docs)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
