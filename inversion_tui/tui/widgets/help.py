"""The `?` screen: every key of the workbench and what it does, from the one command table."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from inversion_tui.tui.actions import COMMANDS, key_of


def keys_table() -> Table:
    table = Table(box=None, expand=True, header_style="bold", pad_edge=False)
    table.add_column("key", no_wrap=True, style="bold yellow")
    table.add_column("command", no_wrap=True)
    table.add_column("what it does", ratio=1)
    for command in COMMANDS:
        table.add_row(key_of(command), command.title, command.help)
    table.add_row("Enter", "Inspect candidate", "In the table: everything about the selected candidate")
    table.add_row("↑ ↓", "Move", "In the table; ← → step through candidates in the inspector")
    table.add_row("ctrl+p", "Command palette", "Every command by name")
    table.add_row("ctrl+q, ctrl+c", "Quit the run", "As q")
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog"):
            yield Static(Text("Keys  (Esc or ? closes)", style="bold"))
            yield Static(keys_table())

    def action_close(self) -> None:
        self.dismiss(None)
