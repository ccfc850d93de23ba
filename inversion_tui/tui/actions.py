"""Every command of the workbench, once: the key bindings, the footer, the command palette and
the `?` help screen are all made from this table, so a command cannot exist in one and be
missing (or named differently) in another.

Order matters: the footer shows entries in this order and cuts what does not fit, so quitting
and help come first and stay visible at 80 columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Iterator

from textual.app import SystemCommand
from textual.binding import Binding
from textual.keys import key_to_character

if TYPE_CHECKING:
    from textual.app import App


@dataclass(frozen=True)
class Command:
    keys: str  # textual key names, comma-separated; the first is the one shown
    action: str  # the textual action it runs
    label: str  # in the footer
    title: str  # in the palette and the help screen
    help: str  # what it does, in one line
    footer: bool = True  # shown in the footer (the help screen shows every command)
    key_display: str | None = None  # in the footer (and the help, unless help_key says otherwise)
    help_key: str | None = None  # in the help screen, where the footer's key_display covers two commands
    needs_engine: bool = False  # does nothing once the run is over, or in a replay
    replay_help: str | None = None  # what it does in a replay (`inspect`), where that differs


NO_ENGINE = "live runs only: a replay has no engine"

COMMANDS: tuple[Command, ...] = (
    Command("q", "quit_run", "Quit", "Quit the run",
            "Stop at the next batch boundary, save the adapter, leave; press again to leave at once",
            replay_help="Leave the replay (your marks are already saved)"),
    Command("question_mark", "show_help", "Keys", "Keys", "Every key and what it does", key_display="?"),
    Command("p", "toggle_pause", "Pause", "Pause / resume the loop", "Takes effect at the next batch boundary",
            needs_engine=True, replay_help=NO_ENGINE),
    Command("plus,equals_sign,right_square_bracket", "threshold_up", "Thr", "Raise threshold",
            "Threshold +0.05: every verdict re-decided from stored scores", key_display="+/-", help_key="+ = ]"),
    Command("minus,left_square_bracket", "threshold_down", "Thr -", "Lower threshold",
            "Threshold -0.05: every verdict re-decided from stored scores", footer=False, key_display="-",
            help_key="- ["),
    Command("t", "type_threshold", "Thr…", "Set threshold…", "Type a threshold in [0, 1]"),
    Command("r", "next_select", "Rule", "Next selection rule",
            "threshold -> best-per-task -> top-k -> keep-top: every verdict re-decided from stored scores"),
    Command("w", "weights", "Weights…", "Set weights…", "Re-score every candidate with new component weights"),
    Command("n", "train_now", "Train now", "Train now", "Train on the accepted pool so far, at the next boundary",
            needs_engine=True, replay_help=NO_ENGINE),
    Command("i", "inspect", "Inspect", "Inspect candidate", "Everything about the selected candidate (or Enter)"),
    Command("f", "filter", "Filter", "Filter candidates",
            "accepted cycle:2 tool:nmap score>0.5 flag:copies_task !good text…; Esc leaves the box"),
    Command("s", "sort", "Sort", "Sort candidates", "Next sort order: newest, score, a component, cycle, tool"),
    Command("S", "reverse_sort", "Reverse", "Reverse sort", "Reverse the sort order", footer=False),
    Command("z", "zoom", "Zoom", "Zoom pane",
            "The tabs, then the live pane, then the stats fill the screen; once more shows everything"),
    Command("y", "mark('good')", "Good", "Mark good", "Your verdict on the selected candidate", footer=False),
    Command("x", "mark('bad')", "Bad", "Mark bad", "Your verdict on the selected candidate", footer=False),
    Command("u", "mark(None)", "Unmark", "Clear mark", "Remove your verdict on the selected candidate",
            footer=False),
    Command("c", "show_tab('candidates')", "Table", "Show candidates", "The candidates table"),
    Command("a", "show_tab('scorer')", "Scorer", "Show scorer check", "Scorer vs references and your marks"),
    Command("g", "show_tab('charts')", "Charts", "Show charts", "Score, acceptance, held-out accuracy, loss"),
    Command("l", "show_tab('log')", "Log", "Show log", "What the engine says"),
    Command("ctrl+s", "screenshot", "Screenshot", "Save screenshot", "An SVG of the screen, in the run directory",
            footer=False),
)


def bindings() -> list[Binding]:
    return [Binding(c.keys, c.action, c.label, show=c.footer, key_display=c.key_display, tooltip=c.help)
            for c in COMMANDS]


def palette_commands(app: "App", engine: bool = True, replay: bool = False) -> Iterator[SystemCommand]:
    """`engine`: whether an engine runs that pause and train now could act on (else they are
    left out, as from the footer)."""
    for command in COMMANDS:
        if command.needs_engine and not engine:
            continue
        help = command.replay_help if replay and command.replay_help else command.help
        yield SystemCommand(command.title, help, partial(app.run_action, command.action))


def key_of(command: Command) -> str:
    """The key the help screen names for a command."""
    return command.help_key or command.key_display or command.keys.split(",")[0]


def engine_actions() -> set[str]:
    """Actions that do nothing once the run is over: hidden from the footer then."""
    return {c.action for c in COMMANDS if c.needs_engine}


def typed_actions() -> set[str]:
    """Actions whose every key is a character: in a text box (the filter) those keys type, so
    the footer does not offer the commands there."""
    return {c.action for c in COMMANDS if all(_is_character(key) for key in c.keys.split(","))}


def _is_character(key: str) -> bool:
    # Textual finds "equals_sign" by its Unicode name, not "plus" or "minus" ("PLUS SIGN").
    return bool(key_to_character(key) or key_to_character(f"{key}_sign"))


def engine_keys() -> dict[str, Command]:
    """Every key of those actions: pressed when they are hidden, they say why nothing happens."""
    return {key: c for c in COMMANDS if c.needs_engine for key in c.keys.split(",")}
