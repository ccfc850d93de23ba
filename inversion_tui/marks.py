"""A person's good/bad marks on candidates, kept in the run directory as marks.jsonl.

Append-only, one line per mark change (the last line for a candidate wins, "clear" removes
a mark), fsynced: a mark survives a crash, and the live app and an `inspect` of the same run
can both add marks without rewriting each other's. A torn last line is ignored.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from inversion_tui.loop.runlog import now

MARKS = "marks.jsonl"
MARK_VALUES = ("good", "bad")

Key = tuple[int, str, int]  # (cycle, phase, index in the pass): how a candidate is found again


class MarkBook:
    def __init__(self, directory: Path):
        self.path = Path(directory) / MARKS
        self.marks: dict[Key, str] = self._read()

    def _read(self) -> dict[Key, str]:
        marks: dict[Key, str] = {}
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return marks
        for line in lines:
            try:
                entry = json.loads(line)
                key = (int(entry["cycle"]), str(entry["phase"]), int(entry["index"]))
            except (ValueError, KeyError, TypeError):
                continue  # a torn line (crash mid-write) or a hand edit gone wrong
            if entry.get("mark") in MARK_VALUES:
                marks[key] = entry["mark"]
            else:
                marks.pop(key, None)
        return marks

    def set(self, key: Key, mark: str | None, *, task: str = "", command: str = "") -> None:
        """Mark a candidate good or bad, or clear its mark (None). Task and command are written
        beside the key so the file reads on its own."""
        if mark is not None and mark not in MARK_VALUES:
            raise ValueError(f"mark must be one of {MARK_VALUES}")
        cycle, phase, index = key
        line = json.dumps({"cycle": cycle, "phase": phase, "index": index, "mark": mark or "clear",
                           "task": task, "command": command, "time": now()},
                          ensure_ascii=False)
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        if mark is None:
            self.marks.pop(key, None)
        else:
            self.marks[key] = mark
