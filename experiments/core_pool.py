"""Write the `cheat` pool's tasks for basic command-line programs as a task file (JSONL), for
`run --tasks-from FILE`: a pool this model might half-solve, unlike the whole pool.

    python experiments/core_pool.py /tmp/cheat_core.jsonl

The programs are fixed here, before any run on them: GNU coreutils' and findutils' everyday
commands, grep, sed, awk, tar, gzip/zip and ps/kill, whichever have a cheat sheet. They were
chosen as "the basics", not from any evaluation set's references. The file is written at run
time and not kept in the repository: its text is the cheat package's (GPL-3), which the
project reads but does not redistribute. Each task keeps its sheet's command as a reference
(for evaluation only) and its program as the group (held out together by --holdout).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inversion_tui.task_pools import load_cheat_pool  # noqa: E402

BASICS = frozenset(
    "cat cp mv rm mkdir rmdir ls ln chmod chown touch head tail sort uniq wc cut tr tee du df date echo printf "
    "env pwd whoami id uname basename dirname find xargs grep sed awk tar gzip gunzip zip unzip ps kill diff cmp "
    "stat file which split paste comm nl od seq sleep yes hostname".split())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    kept = [t for t in load_cheat_pool() if t.tool in BASICS]
    with args.out.open("w", encoding="utf-8") as f:
        for t in kept:
            f.write(json.dumps({"task": t.task, "references": list(t.references), "group": t.tool}) + "\n")
    print(f"wrote {args.out}: {len(kept)} tasks over {len({t.tool for t in kept})} programs")


if __name__ == "__main__":
    main()
