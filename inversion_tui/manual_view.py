"""A command explained by the manual, as rich Text: `explain`, `score` and the inspector's
panel all show it so, so a user sees where the model's inversion and the manual disagree.
Page and command text is shown with its control characters written out (plain_text.visible)."""

from __future__ import annotations

from rich.text import Text

from inversion_tui.manuals.explain import Explanation, explain
from inversion_tui.manuals.index import default_docs
from inversion_tui.plain_text import visible

TITLE = "explained by the manual"


def explanation_of(command: str) -> Explanation | None:
    """None where no documentation index was built."""
    docs = default_docs()
    return None if docs is None else explain(command, docs)


def manual_text(command: str) -> Text:
    explanation = explanation_of(command)
    if explanation is None:
        return Text("no documentation index: `make setup` builds it (or `inversion-tui docs --build`)", style="dim")
    return render(explanation)


def render(explanation: Explanation) -> Text:
    text = Text()
    if not explanation.programs:
        text.append("no program in this command" if explanation.command.strip() else "an empty command",
                    style="dim")
    for program in explanation.programs:
        name = program.program + (f" {program.subcommand}" if program.subcommand else "")
        text.append(visible(name), style="bold" if program.documented else "bold red")
        if program.documented:
            text.append(f"  {visible(program.description or '(no description line)')}")
            text.append(f"  [{visible(program.page)}, {visible(program.source)}]\n", style="dim")
            if program.subcommand:
                text.append(f"  {visible(program.subcommand)}: {visible(program.subcommand_description or '')}\n")
        else:
            text.append(": no manual page\n", style="red")
        for option in program.options:
            text.append(f"  {visible(option.option):<8}", style="bold" if option.documented else "yellow")
            if option.documented:
                text.append(" (with an argument)" if option.takes_argument else "", style="dim")
                text.append(f"  {visible(option.description or '')}\n")
            else:
                text.append("  not in its page\n" if program.documented else "  undocumented\n", style="yellow")
    if not explanation.parsed:
        text.append("not valid shell: explained as far as it could be read\n", style="yellow")
    text.rstrip()
    return text
