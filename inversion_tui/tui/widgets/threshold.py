"""A small modal to type a threshold."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from inversion_tui.plain_text import plain
from inversion_tui.tui.widgets.ordered_input import OrderedInput


def parse_threshold(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if 0.0 <= value <= 1.0 else None


class ThresholdScreen(ModalScreen[float | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: float):
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="threshold-dialog"):
            yield Label(f"New threshold (0-1), now {self.current:.2f}:")
            yield OrderedInput(placeholder=f"{self.current:.2f}", id="threshold-input")
            yield Label("", id="threshold-error")
            yield Label("Enter applies · Esc cancels", classes="dialog-keys")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        value = parse_threshold(event.value)
        if value is None:
            self.query_one("#threshold-error", Label).update(plain(f"{event.value!r} is not a number in [0, 1]"))
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)
