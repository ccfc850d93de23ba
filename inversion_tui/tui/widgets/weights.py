"""A modal to set the score component weights: one field per component."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from inversion_tui.plain_text import plain
from inversion_tui.loop.components import component_names
from inversion_tui.settings import check_weights
from inversion_tui.tui.widgets.ordered_input import OrderedInput


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

    # Tab as a priority binding: the app runs it the moment the key arrives. As the screen's
    # ordinary binding it ran only after the focused field had taken the keys typed behind it,
    # so a fast `Tab Tab 7` put the 7 in the first field.
    BINDINGS = [Binding("escape", "cancel", "Cancel"),
                Binding("tab", "move(1)", "Next field", show=False, priority=True),
                Binding("shift+tab", "move(-1)", "Previous field", show=False, priority=True)]
    AUTO_FOCUS = None  # the first field is focused on mount, before any key typed behind `w`

    def __init__(self, current: dict[str, float]):
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="weights-dialog"):
            yield Label("Score = weighted mean of the components present. Enter re-scores every "
                        "stored candidate at once; new batches use the weights too.")
            with VerticalScroll(id="weight-fields"):
                for name in component_names():
                    with Horizontal(classes="weight-row"):
                        yield Label(f"{name:<15}", classes="weight-name")
                        yield OrderedInput(value=f"{self.current.get(name, 0.0):g}", id=f"weight-{name}",
                                           classes="weight-input")
            yield Label("self_rating is computed only while weighted (earlier candidates lack it). "
                        "*_masked: overlap/difflib with IPs, ports, paths masked.", id="weights-note")
            yield Label("", id="weights-error")
            yield Label("Tab / shift+Tab: next / previous · Enter applies · Esc cancels", classes="dialog-keys")

    def on_mount(self) -> None:
        self.set_focus(self.fields()[0])
        self.call_after_refresh(self.fit)

    def on_resize(self) -> None:
        self.call_after_refresh(self.fit)

    def fit(self) -> None:
        """The dialog within the screen, its keys line included: where the fields do not all fit
        (80x24 holds 14 of them and the text around them only just), they scroll, and the focused
        one is scrolled into view."""
        dialog, fields = self.query_one("#weights-dialog"), self.query_one("#weight-fields")
        around = dialog.styles.gutter.height + sum(child.outer_size.height for child in dialog.children
                                                   if child is not fields)
        room = max(3, self.size.height - around)
        if fields.styles.max_height is None or fields.styles.max_height.value != room:
            fields.styles.max_height = room

    def fields(self) -> list[Input]:
        return list(self.query(".weight-input").results(Input))

    def action_move(self, step: int) -> None:
        fields = self.fields()
        current = fields.index(self.focused) if self.focused in fields else -step
        self.set_focus(fields[(current + step) % len(fields)])

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
