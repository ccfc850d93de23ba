"""`inversion-tui run` and `inspect`, and the app every command is registered on (`score` and
`eval`: eval_commands.py; `explain` and `docs`: docs_commands.py).

Every error a user can cause ends as one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Optional

import typer

from cli import docs_commands, eval_commands
from cli.errors import EXIT_USAGE, OneLineErrors, user_errors
from cli.flags import option, run_settings_options, weights_options, with_options
from inversion_tui.errors import SettingsError
from inversion_tui.loop.progress import Progress
from inversion_tui.loop.stopping import EarlyStopping
from inversion_tui.settings import RunSettings, build_settings, command_line_weights

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


def counted(names) -> str:
    """`a, b ×4, c`: names in first-seen order, each once with its count (a pool's tasks share
    their program's name, and 230 of them would otherwise be listed one by one)."""
    return ", ".join(name if n == 1 else f"{name} ×{n}" for name, n in Counter(names).items())


def held_out_line(training, heldout) -> str:
    """What --holdout kept out of training, in a line: the templates or programs by name, a
    file's or InterCode's tasks (each its own group) by count alone."""
    total = len(training.templates) + len(heldout.templates)
    groups = Counter(t.id for t in heldout.templates)
    if len(groups) == len(heldout.templates) and not any(t.slots for t in heldout.templates):
        return f"holding out {len(heldout.templates)} of {total} tasks from training (fixed by task, whatever the seed)"
    return f"holding out {len(heldout.templates)} of {total} templates from training: " + counted(
        t.id for t in heldout.templates)


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
@with_options(*run_settings_options(), *weights_options(),
              option("headless", bool, False, help="Rich progress bars instead of the TUI.", panel="Output"),
              option("verbose", bool, False, "--verbose", "-v", help="Print every scored candidate.", panel="Output"),
              option("resume", Optional[Path], None, help="Continue a stopped or killed run directory.", panel="Output"),
              context=True)
def run(ctx: typer.Context, **values: Any) -> None:
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

    headless, verbose, resume = values.pop("headless"), values.pop("verbose"), values.pop("resume")
    with user_errors():
        values["weights"] = command_line_weights(values.pop("weights"), values.pop("self_rating"),
                                                 values.pop("mask_literals"))
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
            typer.echo(held_out_line(task_pack, heldout_pack), err=True)
        eval_sets = eval_sets_for(settings, heldout_pack, task_pack)  # and on a bad held-out file
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


app.command()(eval_commands.score)
app.command("eval")(eval_commands.evaluate)


@app.command()
def inspect(
    run_dir: Path = typer.Argument(..., help="A run directory: finished, stopped, crashed or running."),
        rescore: bool = typer.Option(False, "--rescore", help="Recompute guards and text components with today's "
                                                          "code (no model; embed and self_rating kept)."),
) -> None:
    """Open a run in the workbench from its files alone: inspect, filter, re-weight, mark."""
    from inversion_tui.run_record import load_run, rescore_text
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
