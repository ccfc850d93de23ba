"""The run directory: its files are the truth that `inspect` and `--resume` read.

    settings.json                   the validated settings of the run
    candidates.jsonl                one line per scored candidate, appended and fsynced per batch
    progress.json                   seed-compatible history, atomically replaced after each cycle
    checkpoint_cycle_N/             the LoRA adapter after cycle N (peft save_pretrained)
    self_improvement_results.json   written when the run ends
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable

from inversion_tui.errors import RunDirectoryError

SETTINGS = "settings.json"
CANDIDATES = "candidates.jsonl"
PROGRESS = "progress.json"
RESULTS = "self_improvement_results.json"


def atomic_write_json(path: Path, data: Any) -> None:
    """Write, fsync, rename: a reader (or a crash) sees the old file or the new one, never half."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, ensure_ascii=False)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class RunLog:
    def __init__(self, directory: Path):
        self.directory = Path(directory)

    @classmethod
    def create(cls, directory: Path) -> "RunLog":
        """A new run directory. One that already holds a run is refused, so no work is overwritten."""
        directory = Path(directory)
        for name in (PROGRESS, CANDIDATES):
            if (directory / name).exists():
                raise RunDirectoryError(f"{directory} already holds a run ({name}); choose another --output")
        try:
            directory.mkdir(parents=True, exist_ok=True)
            probe = directory / ".write-test"
            probe.write_text("")
            probe.unlink()
        except OSError as exc:
            raise RunDirectoryError(f"cannot write to {directory}: {exc.strerror or exc}") from None
        return cls(directory)

    def path(self, name: str) -> Path:
        return self.directory / name

    def checkpoint_dir(self, cycle: int) -> Path:
        return self.directory / f"checkpoint_cycle_{cycle}"

    def write_settings(self, settings: dict[str, Any]) -> None:
        atomic_write_json(self.path(SETTINGS), settings)

    def append_candidates(self, records: Iterable[dict[str, Any]]) -> None:
        lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        with open(self.path(CANDIDATES), "a", encoding="utf-8") as handle:
            handle.write(lines)
            handle.flush()
            os.fsync(handle.fileno())

    def write_progress(self, progress: dict[str, Any]) -> None:
        atomic_write_json(self.path(PROGRESS), progress)

    def write_results(self, results: dict[str, Any]) -> None:
        atomic_write_json(self.path(RESULTS), results)


def read_candidates(directory: Path) -> list[dict[str, Any]]:
    path = Path(directory) / CANDIDATES
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
