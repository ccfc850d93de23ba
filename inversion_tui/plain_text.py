"""Text that comes from a model, a task pack, a run file or a user, made safe to show.

Such text is never markup: `sed 's/[/]//g' f` must not be read as a closing tag (a crash), and
`grep '[a-z]' f` must not lose its brackets (a different command from the one scored). Rich and
Textual parse a plain `str` as markup in many places (DataTable cells, Static.update, Label,
notify, console.print), so everything from outside goes through `plain` into a rich Text,
which is never parsed.

Control characters are shown, not obeyed: an escape sequence in a model's reply would
otherwise reach the terminal and garble the screen; `\\x1b` is what a debugging user needs to
see.
"""

from __future__ import annotations

import re

from rich.text import Text

# C0 and C1 controls and DEL, except newline and tab, which layout handles itself.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"\r\n|[\n\r\u2028\u2029]")


def _escape_control(match: re.Match) -> str:
    return f"\\x{ord(match.group()):02x}"


def visible(text: str | None) -> str:
    """The text with every control character but newline and tab written as `\\xNN`."""
    return _CONTROL.sub(_escape_control, text or "")


def one_line(text: str | None) -> str:
    """`visible`, with line breaks shown as ⏎ and tabs as spaces: for a table cell or a
    single-line field, where a newline would split the row."""
    return visible(_LINE_BREAKS.sub("⏎", text or "")).replace("\t", " ")


def plain(text: str | None, style: str = "", *, single_line: bool = False) -> Text:
    """A rich Text showing `text` as it is: never parsed as markup."""
    return Text(one_line(text) if single_line else visible(text), style=style)
