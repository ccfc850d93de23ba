"""A modal to set the score component weights: one field per component."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from inversion_tui.plain_text import plain
from inversion_tui.loop.score import component_names
from inversion_tui.settings import check_weights


def parse_weight_fields(values: dict[str, str]) -> dict[str, float]:
    """Field texts to checked weights; raises ValueError with a one-line message. An empty
    field is 0."""
    weights = {}
    for name, text in values.items():
        try:
            weights[name] = float(text.strip() or 0)
        except ValueError:
            raise ValueError(f"{name}: {text!r} is not a number") from None
    return check_weights(weights)


class WeightsScreen(ModalScreen[dict[str, float] | None]):
    """Enter applies (from any field), Escape cancels; tab moves between fields."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: dict[str, float]):
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="weights-dialog"):
            yield Label("Score = weighted mean of the components present. Enter re-scores every "
                        "stored candidate at once; new batches use the weights too.")
            for name in component_names():
                with Horizontal(classes="weight-row"):
                    yield Label(f"{name:<15}", classes="weight-name")
                    yield Input(value=f"{self.current.get(name, 0.0):g}", id=f"weight-{name}", classes="weight-input")
            yield Label("self_rating is computed only while weighted (earlier candidates lack it). "
                        "*_masked: overlap/difflib with IPs, ports, paths masked.", id="weights-note")
            yield Label("", id="weights-error")
            yield Label("Tab / shift+Tab: next / previous field · Enter applies · Esc cancels", classes="dialog-keys")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        fields = {name: self.query_one(f"#weight-{name}", Input).value for name in component_names()}
        try:
            weights = parse_weight_fields(fields)
        except ValueError as error:
            self.query_one("#weights-error", Label).update(plain(str(error)))
            return
        self.dismiss(weights)

    def action_cancel(self) -> None:
        self.dismiss(None)
