"""How the command line reports bad input: one line on stderr, `error: ...`, and exit 2."""

from __future__ import annotations

import contextlib
import sys

import typer

from inversion_tui.errors import InversionError

EXIT_USAGE = 2


@contextlib.contextmanager
def user_errors():
    try:
        yield
    except InversionError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None


class OneLineErrors(typer.core.TyperGroup):
    """A mistyped flag or value (`--tasks abc`, `--nosuch`) is one line on stderr and exit 2,
    like every other input error, not Typer's six-line box. (Typer 0.29 carries its own copy
    of click: its errors derive from typer.TyperException, not from click's.)"""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except typer.Abort:
            typer.echo("aborted", err=True)
            sys.exit(1)
        except typer.TyperException as error:
            context = getattr(error, "ctx", None)
            if type(error).__name__ == "NoArgsIsHelpError" and context is not None:
                typer.echo(context.get_help())  # `inversion-tui` alone: the help, as before
                sys.exit(error.exit_code)
            where = context.command_path if context is not None else "inversion-tui"
            message = " ".join(error.format_message().split()) if hasattr(error, "format_message") else str(error)
            typer.echo(f"error: {message} (see {where} --help)", err=True)
            sys.exit(getattr(error, "exit_code", EXIT_USAGE))
        sys.exit(result if isinstance(result, int) else 0)
