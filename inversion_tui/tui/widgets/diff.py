"""Word-level diff of a task and its reconstruction, as two rich Texts side by side.

Words in both are green; words only in the task (what the reconstruction lost) are red;
words only in the reconstruction (what it made up) are yellow. Compared case-folded and
without trailing punctuation, as a reader would; shown as written.
"""

from __future__ import annotations

import difflib
import re

from rich.text import Text

SAME, LOST, ADDED = "green", "bold red", "bold yellow"

_WORD = re.compile(r"\S+")


def _words(text: str) -> list[re.Match]:
    return list(_WORD.finditer(text))


def _norm(word: str) -> str:
    return word.lower().strip(".,;:!?\"'()`")


def word_diff(task: str, reconstruction: str) -> tuple[Text, Text]:
    left, right = _words(task), _words(reconstruction)
    matcher = difflib.SequenceMatcher(None, [_norm(m.group()) for m in left], [_norm(m.group()) for m in right],
                                      autojunk=False)
    left_text, right_text = Text(task), Text(reconstruction)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for match in left[i1:i2]:
            left_text.stylize(SAME if tag == "equal" else LOST, match.start(), match.end())
        for match in right[j1:j2]:
            right_text.stylize(SAME if tag == "equal" else ADDED, match.start(), match.end())
    return left_text, right_text
