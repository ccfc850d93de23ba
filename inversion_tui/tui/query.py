"""The candidates table's filter language and sort orders. Pure, so it is tested without a screen.

A filter is space-separated terms, all of which must hold; `!` before a term negates it:

    accepted | rejected | flagged | trained | good | bad | marked | correct | wrong
    cycle:2   phase:before   tool:nmap   prog:nc   flag:copies_task
      (tool: the task's tool, its template's; prog: the program the command runs)
    score>0.5   embed<=0.3   overlap_masked>=0.2     (any component; < <= > >= =)
    any other word: text in the task, command or reconstruction

`correct` and `wrong` compare the command with the template's reference commands (same
program name); candidates without references are neither.
"""

from __future__ import annotations

import operator
import re
from typing import Callable

from inversion_tui.loop.metrics import judge
from inversion_tui.loop.components import component_names
from inversion_tui.shell import program_name
from inversion_tui.tui.state import CandidateRow

Predicate = Callable[[CandidateRow], bool]

FILTER_HELP = "accepted cycle:2 tool:nmap score>0.5 flag:copies_task !good text…"

def sort_keys() -> tuple[str, ...]:
    """What `s` cycles through; `newest` is the order candidates arrived in."""
    return ("newest", "score", *component_names(), "cycle", "tool")

_COMPARISON = re.compile(r"^([a-z_]+)(<=|>=|<|>|=)(.+)$")
_OPERATORS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "=": operator.eq}


class FilterError(ValueError):
    """A filter that cannot be read; its message is one line for the user."""


def is_correct(row: CandidateRow) -> bool | None:
    return judge(row.command, row.references).utility if row.references else None


_WORDS: dict[str, Predicate] = {
    "accepted": lambda r: r.accepted,
    "rejected": lambda r: not r.accepted and not r.flags,
    "flagged": lambda r: bool(r.flags),
    "trained": lambda r: r.trained,
    "good": lambda r: r.mark == "good",
    "bad": lambda r: r.mark == "bad",
    "marked": lambda r: r.mark is not None,
    "correct": lambda r: is_correct(r) is True,
    "wrong": lambda r: is_correct(r) is False,
}


def _term(term: str) -> Predicate:
    if term.startswith("!") and len(term) > 1:
        inner = _term(term[1:])
        return lambda r: not inner(r)
    lowered = term.lower()
    if lowered in _WORDS:
        return _WORDS[lowered]
    match = _COMPARISON.match(lowered)
    if match:
        return _comparison(*match.groups())
    name, sep, value = lowered.partition(":")
    if sep:
        return _field(name, value, term)
    return lambda r: lowered in f"{r.task}\n{r.command}\n{r.reconstruction}".lower()


def _comparison(name: str, op: str, text: str) -> Predicate:
    if name != "score" and name not in component_names():
        raise FilterError(f"unknown field {name!r} in a comparison (use score or {', '.join(component_names())})")
    try:
        value = float(text)
    except ValueError:
        raise FilterError(f"{name}{op}{text}: {text!r} is not a number") from None
    compare = _OPERATORS[op]
    if name == "score":
        return lambda r: compare(r.score, value)
    return lambda r: r.components.get(name) is not None and compare(r.components[name], value)


def _field(name: str, value: str, term: str) -> Predicate:
    if name == "cycle":
        if not value.isdigit():
            raise FilterError(f"{term}: the cycle must be a number")
        number = int(value)
        return lambda r: r.cycle == number
    if name == "phase":
        if value not in ("before", "after"):
            raise FilterError(f"{term}: the phase is before or after")
        return lambda r: r.phase == value
    if name == "tool":
        return lambda r: r.tool.lower() == value or (not r.tool and program_name(r.command).lower() == value)
    if name == "prog":
        return lambda r: program_name(r.command).lower() == value
    if name == "flag":
        return lambda r: value in r.flags
    raise FilterError(f"unknown filter {name!r}: use cycle:, phase:, tool:, prog:, flag:, a comparison or a word")


def show_all(row: CandidateRow) -> bool:
    """The empty filter: one predicate, so the table can tell that nothing is filtered."""
    return True


def parse_filter(text: str) -> Predicate:
    """A predicate over rows; raises FilterError."""
    terms = [_term(term) for term in text.split()]
    if not terms:
        return show_all
    return lambda row: all(term(row) for term in terms)


def sort_value(key: str, row: CandidateRow):
    """A sortable value; missing components sort below every number."""
    if key == "newest":
        return row.number
    if key == "score":
        return row.score
    if key in ("cycle", "tool"):
        return (getattr(row, key), row.number)
    value = row.components.get(key)
    return -1.0 if value is None else value
