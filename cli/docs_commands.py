"""`inversion-tui explain` and `inversion-tui docs`: the documentation index, with no model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer


def _docs(index: Optional[Path]):
    from inversion_tui.manuals.index import CommandDocs, index_path

    return CommandDocs.load(index or index_path())


def explain(
    command: str = typer.Argument(..., help="The command to explain (never executed)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object: each program and option."),
    index: Optional[Path] = typer.Option(None, help="An index file other than the one `make setup` built."),
) -> None:
    """Explain a command from the manual pages: each program and option with its documentation line."""

    from cli.errors import user_errors
    from inversion_tui.manuals.explain import explain as explain_command
    from inversion_tui.console import report_console
    from inversion_tui.manual_view import render

    with user_errors():
        docs = _docs(index)
        explanation = explain_command(command, docs)
    if as_json:  # JSON escapes control characters itself
        typer.echo(json.dumps({**explanation.to_json(), "index": docs.description}, ensure_ascii=False))
        return
    report_console().print(render(explanation))


def docs(
    build: bool = typer.Option(False, "--build", help="Build the index from the fetched packages' pages "
                                                      "(scripts/fetch_manpages.sh; `make setup` runs both)."),
    system: bool = typer.Option(False, "--system", help="With --build: add this machine's own pages "
                                                        "($MANPATH or /usr/share/man) for programs the packages lack."),
    coverage: bool = typer.Option(False, "--coverage", help="Print how many of the packs', cheat-basics' and "
                                                            "InterCode-ALFA's programs the index documents."),
    index: Optional[Path] = typer.Option(None, help="An index file other than the user cache's."),
) -> None:
    """The documentation index of commands: build it, say which it is, measure its coverage."""
    from cli.errors import user_errors
    from inversion_tui.manuals.index import build_index, index_path, pages_dir, system_manpath
    from inversion_tui.errors import SettingsError

    with user_errors():
        if system and not build:
            raise SettingsError("--system adds pages to a build: give it with --build")
        path = index or index_path()
        if build:
            fetched = pages_dir()
            has_packages = fetched.is_dir() and any(fetched.glob("*.version"))
            extra = system_manpath() if system or not has_packages else []
            if not has_packages:
                typer.echo(f"no fetched manual pages in {fetched} (scripts/fetch_manpages.sh needs apt-get): "
                           "indexing this machine's own pages instead; this index differs from CI's", err=True)
            built = build_index(fetched if has_packages else None, extra, log=lambda line: typer.echo(line, err=True))
            built.save(path)
            typer.echo(f"documentation index: {built.description}")
            typer.echo(f"  written to {path}")
        docs_index = _docs(index)
        if not build:
            typer.echo(f"documentation index: {docs_index.description}")
            typer.echo(f"  at {path}")
        if coverage:
            for row in project_coverage(docs_index):
                documented = len(row.programs) - len(row.missing)
                typer.echo(f"{row.name}: {documented} of {len(row.programs)} programs documented "
                           f"({row.share:.1%}; {row.weighted_share:.1%} of their uses)")
                if row.missing:
                    typer.echo("  no page: " + ", ".join(f"{p} ({row.programs[p]})" for p in row.missing))


def project_coverage(docs) -> list:
    """`docs --coverage`'s rows: the packs' reference commands, cheat-basics' programs and
    InterCode-ALFA's reference commands (left out where its data is not installed)."""
    from collections import Counter

    from inversion_tui.errors import InversionError
    from inversion_tui.manuals.coverage import Coverage, coverage_of
    from inversion_tui.task_pools import BASICS
    from inversion_tui.tasks import load_packs

    pack = load_packs("pentest,shell")
    rows = [coverage_of("the packs' reference commands", [r for t in pack.templates for r in t.references], docs),
            Coverage("cheat-basics' programs", Counter({p: 1 for p in BASICS}),
                     tuple(sorted(p for p in BASICS if docs.lookup(p) is None)))]
    try:
        from inversion_tui.eval_sets import load_intercode

        intercode = load_intercode()
    except InversionError:
        return rows
    rows.append(coverage_of("InterCode-ALFA's reference commands", [r for t in intercode for r in t.references], docs))
    return rows
