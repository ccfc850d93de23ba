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


def keys_table(replay: bool = False) -> Table:
    """`replay`: as `inspect` has them (no engine: pause and train now do nothing)."""
    table = Table(box=None, expand=True, show_header=False, pad_edge=False)
    table.add_column("key", no_wrap=True, style="bold yellow", width=14)
    table.add_column("what it does", ratio=1)
    rows = [(key_of(c), c.title, c.replay_help if replay and c.replay_help else c.help) for c in COMMANDS] + [
        ("Enter", "Inspect candidate", "in the table: everything about the selected candidate"),
        ("↑ ↓ ← →", "Move", "in the table; ← → step through candidates in the inspector"),
        ("ctrl+p", "Command palette", "every command by name"),
        ("ctrl+q ctrl+c", "Leave" if replay else "Quit the run", "as q"),
    ]
    for key, title, what in rows:
        line = Text(title, style="bold")
        line.append(f": {what}")
        table.add_row(key, line)
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close")]

    def __init__(self, replay: bool = False):
        super().__init__()
        self.replay = replay

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog"):
            yield Static(Text("Keys  (Esc or ? closes)" + ("  · a replay" if self.replay else ""), style="bold"))
            yield Static(keys_table(self.replay))

    def action_close(self) -> None:
        self.dismiss(None)
