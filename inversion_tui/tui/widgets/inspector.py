"""The candidate inspector: everything the scorer saw and decided about one candidate.

Task and reconstruction side by side with a word diff, and under them the command (and the
raw reply it was extracted from) beside the manual's explanation of it, every component with its weight and contribution (literal-masked numbers
beside the plain ones), the guard flags with their reasons, correctness against the
template's references, and the exact prompts sent.
"""

from __future__ import annotations

from typing import Callable

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from inversion_tui.loop.metrics import judge
from inversion_tui.loop.guards import GUARD_REASONS, explain_flags
from inversion_tui.loop.literals import find_literals, mask_literals
from inversion_tui.loop.score import contributions
from inversion_tui.manual_view import TITLE as MANUAL_TITLE, manual_text
from inversion_tui.plain_text import plain, visible
from inversion_tui.tui.state import CandidateRow
from inversion_tui.tui.widgets.diff import ADDED, LOST, SAME, word_diff

MarkSetter = Callable[[CandidateRow, str | None], None]


def _value(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def components_table(row: CandidateRow, weights: dict[str, float]) -> Table:
    table = Table(title="score components", title_justify="left", expand=False, header_style="bold")
    for column in ("component", "value", "weight", "contribution"):
        table.add_column(column, justify="left" if column == "component" else "right")
    shares = contributions(row.components, weights)
    for name, value in row.components.items():
        weight = weights.get(name, 0.0)
        style = "" if shares.get(name) is not None else "dim"
        table.add_row(plain(name), _value(value), f"{weight:.2f}", _value(shares.get(name)), style=style)
    table.add_row("score", "", "", f"{row.score:.3f}", style="bold")
    return table


def flags_section(row: CandidateRow) -> Text:
    text = Text()
    current = explain_flags(row.task, row.command)
    if not row.flags and not current:
        return Text("guards: no flag", style="green")
    for flag in current:
        text.append(f"flag {flag.name}", style="bold yellow")
        text.append(f": {visible(flag.detail)}\n")
    stale = set(row.flags) - {f.name for f in current}
    for name in sorted(stale):  # stored by an older guard version
        text.append(f"flag {name}", style="bold yellow")
        text.append(f" (stored with the run; today's guards do not raise it): {GUARD_REASONS.get(name, '')}\n")
    return text


def correctness_section(row: CandidateRow) -> Text:
    if not row.references:
        return Text("correctness: no reference commands for this task", style="dim")
    verdict = judge(row.command, row.references)
    text = Text("correctness against the template's references: ")
    text.append("same program" if verdict.utility else "other program", style="green" if verdict.utility else "red")
    text.append(f", token F1 {verdict.token_f1:.2f}, exact match {'yes' if verdict.exact else 'no'}\n")
    for reference in row.references:
        text.append("  ref $ ", style="dim")
        text.append(visible(reference) + "\n")
    return text


def render_candidate(row: CandidateRow, weights: dict[str, float], threshold: float) -> Group:
    head = Text()
    head.append(f"{row.score:.3f} ", style="bold")
    if row.accepted:
        head.append("accepted", style="bold green")
    else:
        head.append(f"not accepted: {visible(row.reason)}", style="bold red")
    head.append(f"   (threshold {threshold:.2f})")
    head.append(f"   trained: {'yes' if row.trained else 'no'}")
    head.append("   mark: ")
    head.append(row.mark or "-", style={"good": "bold green", "bad": "bold red"}.get(row.mark or "", "dim"))

    task_text, reconstruction_text = word_diff(visible(row.task), visible(row.reconstruction))
    command = Text("$ ", style="bold")
    command.append(visible(row.command) or "(empty)")
    if row.raw and row.raw.strip() != row.command:
        command.append("\nraw reply: ", style="dim")
        command.append(visible(row.raw.strip()))
    sides = Table.grid(expand=True, padding=(0, 1))
    sides.add_column(ratio=1)
    sides.add_column(ratio=1)
    sides.add_row(Panel(task_text, title="task", title_align="left"),
                  Panel(reconstruction_text or Text("(empty)", style="dim"), title="reconstruction", title_align="left"))
    # The manual's inversion of the command beside the model's: where they disagree is the story.
    sides.add_row(Panel(command, title="command", title_align="left"),
                  Panel(manual_text(row.command), title=MANUAL_TITLE, title_align="left"))
    legend = Text("diff: ")
    legend.append("in both", style=SAME)
    legend.append(" · ")
    legend.append("lost by the reconstruction", style=LOST)
    legend.append(" · ")
    legend.append("added by it", style=ADDED)

    masked = Text("literals masked: ", style="dim")
    masked.append(visible(f"{mask_literals(row.task)}  |  {mask_literals(row.reconstruction)}"))
    literals = find_literals(row.task)
    if literals:
        masked.append(visible(f"   (task literals: {', '.join(literals)})"), style="dim")


    prompts = [Panel(plain(text), title=plain(f"{name} prompt (exact)"), title_align="left", border_style="dim")
               for name, text in row.prompts.items()]
    if not prompts:
        prompts = [Text("prompts: not stored with this run", style="dim")]
    return Group(head, Text(""), sides, legend, masked, Text(""),
                 components_table(row, weights), flags_section(row), correctness_section(row), *prompts)


class CandidateScreen(Screen):
    """Full-screen inspector over a list of candidates (the table's order), starting at one."""

    BINDINGS = [
        Binding("escape,q,i", "close", "Back"),
        Binding("right,j", "step(1)", "Next"),
        Binding("left,k", "step(-1)", "Previous"),
        Binding("y", "mark('good')", "Mark good"),
        Binding("x", "mark('bad')", "Mark bad"),
        Binding("u", "mark(None)", "Clear mark"),
    ]

    def __init__(self, rows: list[CandidateRow], position: int, weights: dict[str, float], threshold: float,
                 set_mark: MarkSetter):
        super().__init__()
        self.rows, self.position = rows, position
        self.weights, self.threshold = weights, threshold
        self.set_mark = set_mark

    @property
    def row(self) -> CandidateRow:
        return self.rows[self.position]

    def compose(self) -> ComposeResult:
        yield Static(id="inspect-title")
        with VerticalScroll(id="inspect-body"):
            yield Static(id="inspect-content")
        yield Footer()

    def on_mount(self) -> None:
        self.show_row()

    def show_row(self) -> None:
        row = self.row
        self.query_one("#inspect-title", Static).update(plain(
            # One number names a candidate: the table's `#`; the position says where in the table.
            f" candidate #{row.number} ({self.position + 1} of {len(self.rows)} in the table) · cycle {row.cycle} "
            f"{row.phase} · task's tool {row.tool or '-'}", "bold", single_line=True))
        self.query_one("#inspect-content", Static).update(render_candidate(row, self.weights, self.threshold))
        self.query_one("#inspect-body", VerticalScroll).scroll_home(animate=False)

    def action_close(self) -> None:
        self.dismiss(self.row)

    def action_step(self, offset: int) -> None:
        self.position = max(0, min(len(self.rows) - 1, self.position + offset))
        self.show_row()

    def action_mark(self, mark: str | None) -> None:
        self.set_mark(self.row, mark)
        self.show_row()
