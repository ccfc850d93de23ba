"""How often a hinted prompt's answer is a hint line rather than a command, and how the hinted
and plain answers compare on the tasks where the model wrote a command (a conditional view:
those tasks are chosen by the hinted run's behaviour, so it explains, it does not measure).

    python experiments/hint_copies.py PLAIN_ROWS HINTED_ROWS FORMAT     (FORMAT: a or b)

a: `- wc: print ...` under the task, answered as `wc: print ...`; b: `(from the manual: wc -
print ...; ...)` before the task, answered as `wc - print ...`.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from inversion_tui.eval_sets import load_eval_rows

HINT_LINE = {
    "a": re.compile(r"^[\w ,.\[\]+-]+: "),  # names, a colon, the line
    "b": re.compile(r"^[\w ,.\[\]+-]+ - [a-zA-Z]"),  # names, " - ", the line's first word
}


def main(plain_path: str, hinted_path: str, form: str) -> None:
    plain, hinted = load_eval_rows(Path(plain_path)), load_eval_rows(Path(hinted_path))
    pattern = HINT_LINE[form]
    copied = [h for h in hinted if pattern.match(h["command"])]
    print(f"{len(copied)} of {len(hinted)} hinted answers are a hint line; {sum(h['utility'] for h in copied)} of "
          "those count as the right program")
    commands = [(p, h) for p, h in zip(plain, hinted) if not pattern.match(h["command"])]
    print(f"on the {len(commands)} tasks answered with a command: right program plain "
          f"{sum(p['utility'] for p, _ in commands)}, hinted {sum(h['utility'] for _, h in commands)}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
