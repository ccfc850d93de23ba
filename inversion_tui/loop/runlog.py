"""The run directory: its files are the truth that `inspect` and `--resume` read.

    settings.json                   the validated settings of the run
    candidates.jsonl                one line per scored candidate, appended and fsynced per batch
    candidates.dropped.jsonl        lines a resume took out of candidates.jsonl (a torn line, part of
                                    a batch that --resume redoes), kept rather than lost
    progress.json                   seed-compatible history, atomically replaced after each cycle
    evaluations.jsonl               one line per held-out task per evaluation (cycle, set), for
                                    paired comparisons across cycles; appended and fsynced
    evaluation_samples.jsonl        with --eval-samples N: N sampled commands per held-out task
                                    per evaluation, every component stored (the verification gap)
    checkpoint_cycle_N/             the LoRA adapter after cycle N (peft save_pretrained)
    self_improvement_results.json   written when the run ends
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterable

from inversion_tui.errors import RunDirectoryError
from inversion_tui.loop.candidate import Candidate, CandidateLine
from inversion_tui.loop.metrics import missing_row_key

SETTINGS = "settings.json"
CANDIDATES = "candidates.jsonl"
DROPPED_CANDIDATES = "candidates.dropped.jsonl"  # what a resume's repair took out of candidates.jsonl
PROGRESS = "progress.json"
RESULTS = "self_improvement_results.json"
EVAL_ROWS = "evaluations.jsonl"
EVAL_SAMPLES = "evaluation_samples.jsonl"
LOCK = "run.lock"


def now() -> str:
    """The time as every run file writes it (progress, locks, change logs, marks)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


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


def append_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> None:
    """Append whole lines in one write and fsync: a crash leaves at most a torn last line."""
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(lines)
        handle.flush()
        os.fsync(handle.fileno())


def read_json_object(path: Path) -> dict[str, Any]:
    """A run file holding one JSON object; RunDirectoryError saying what is wrong with it."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise RunDirectoryError(f"{path}: unreadable ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise RunDirectoryError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise RunDirectoryError(f"{path}: expected a JSON object")
    return data


def read_eval_rows(directory: Path) -> dict[tuple[str, int], list[dict[str, Any]]]:
    """evaluations.jsonl grouped by (set, cycle), in task order. An evaluation redone after a
    crash appends its rows again: the last row for each task wins. A torn line is skipped."""
    path = Path(directory) / EVAL_ROWS
    latest: dict[tuple[str, int, int], dict[str, Any]] = {}
    if path.exists():
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                try:
                    row = json.loads(line)
                    if missing_row_key(row) is None:
                        latest[(row["set"], row["cycle"], row["index"])] = row
                except (ValueError, KeyError, TypeError):  # torn, not a row, or a key of the wrong kind
                    continue
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for (name, cycle, _), row in sorted(latest.items(), key=lambda item: item[0]):
        groups.setdefault((name, cycle), []).append(row)
    return groups


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: existence check only, nothing is sent
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunLog:
    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.stale_lock: dict | None = None  # set when a dead run's lock was taken over

    @classmethod
    def create(cls, directory: Path) -> "RunLog":
        """A new run directory. One that already holds a run is refused, so no work is overwritten."""
        directory = Path(directory)
        for name in (PROGRESS, CANDIDATES):
            if (directory / name).exists():
                raise RunDirectoryError(
                    f"{directory} already holds a run ({name}); choose another --output or --resume it")
        try:
            directory.mkdir(parents=True, exist_ok=True)
            probe = directory / ".write-test"
            probe.write_text("")
            probe.unlink()
        except OSError as exc:
            raise RunDirectoryError(f"cannot write to {directory}: {exc.strerror or exc}") from None
        runlog = cls(directory)
        runlog.acquire_lock()
        return runlog

    @classmethod
    def open_existing(cls, directory: Path) -> "RunLog":
        """An existing run, to resume. Refused if it is not a run or another process is in it."""
        directory = Path(directory)
        if not directory.is_dir():
            what = "a file, not a run directory" if directory.exists() else "no such run directory"
            raise RunDirectoryError(f"{directory}: {what}")
        missing = [name for name in (SETTINGS, PROGRESS) if not (directory / name).is_file()]
        if missing:
            raise RunDirectoryError(f"{directory} is not a run directory (no {missing[0]})")
        runlog = cls(directory)
        runlog.acquire_lock()
        return runlog

    # ---- lock: one writer per run directory

    def acquire_lock(self) -> None:
        path = self.path(LOCK)
        record = {"pid": os.getpid(), "host": socket.gethostname(), "since": now()}
        for _ in range(2):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._read_lock()
                if holder is not None and self._lock_is_live(holder):
                    raise RunDirectoryError(
                        f"{self.directory} is in use by another run (pid {holder['pid']} on {holder['host']} "
                        f"since {holder.get('since', '?')}); wait for it or stop it") from None
                self.stale_lock = holder or {}
                path.unlink(missing_ok=True)  # stale: its process is gone
                continue
            with os.fdopen(fd, "w") as handle:
                json.dump(record, handle)
            return
        raise RunDirectoryError(f"cannot take the lock {path}")

    def _read_lock(self) -> dict | None:
        try:
            return json.loads(self.path(LOCK).read_text())
        except (OSError, ValueError):
            return None  # unreadable or torn: treat as stale

    @staticmethod
    def _lock_is_live(holder: dict) -> bool:
        if holder.get("host") != socket.gethostname():
            return True  # cannot check another machine's process: assume it is alive
        return isinstance(holder.get("pid"), int) and _pid_alive(holder["pid"])

    def release_lock(self) -> None:
        holder = self._read_lock()
        if holder and holder.get("pid") == os.getpid():
            self.path(LOCK).unlink(missing_ok=True)

    def discard_if_empty(self) -> None:
        """A run that failed before writing anything (a model that would not load) leaves no
        empty directory behind. Anything in it, even one file, is kept."""
        self.release_lock()
        try:
            self.directory.rmdir()  # only succeeds on an empty directory
        except OSError:
            pass

    def path(self, name: str) -> Path:
        return self.directory / name

    def checkpoint_dir(self, cycle: int) -> Path:
        return self.directory / f"checkpoint_cycle_{cycle}"

    def write_settings(self, settings: dict[str, Any]) -> None:
        atomic_write_json(self.path(SETTINGS), settings)

    def append_candidates(self, records: Iterable[dict[str, Any]]) -> None:
        append_jsonl(self.path(CANDIDATES), records)

    def append_eval_rows(self, records: Iterable[dict[str, Any]]) -> None:
        append_jsonl(self.path(EVAL_ROWS), records)

    def append_eval_samples(self, records: Iterable[dict[str, Any]]) -> None:
        append_jsonl(self.path(EVAL_SAMPLES), records)

    def write_results(self, results: dict[str, Any]) -> None:
        atomic_write_json(self.path(RESULTS), results)

    def read_json(self, name: str) -> dict[str, Any]:
        return read_json_object(self.path(name))

    def save_checkpoint(self, name: str, save) -> Path:
        """Write an adapter beside its final place, then rename: a directory with the final name
        is always whole, so its existence means the step that made it is done."""
        final = self.directory / name
        staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=self.directory))
        save(staging)
        shutil.rmtree(final, ignore_errors=True)
        os.replace(staging, final)
        return final

    def repair_candidates(self, batch_size: Callable[[Candidate], int]) -> tuple[list[Candidate], int]:
        """Keep whole batches only: a kill can leave a torn last line or part of a batch.

        `batch_size(candidate)` gives the number of lines a complete batch of that candidate has.
        Returns the kept candidates and the number of lines dropped (unreadable ones and those of
        a batch that is not whole); rewrites the file if any were, and appends the dropped
        lines to candidates.dropped.jsonl, so nothing a run wrote is lost.
        """
        lines, unreadable = read_candidate_lines(self.directory)
        total = len(lines) + len(unreadable)
        batch = lambda line: (line.candidate.cycle, line.candidate.phase, line.candidate.batch)  # noqa: E731
        groups: dict[tuple, int] = {}
        for line in lines:
            groups[batch(line)] = groups.get(batch(line), 0) + 1
        whole = [groups[batch(line)] == batch_size(line.candidate) for line in lines]
        kept = [line for line, keep in zip(lines, whole) if keep]
        dropped = total - len(kept)
        if dropped:
            partial = [json.dumps(line.to_json(), ensure_ascii=False) + "\n"
                       for line, keep in zip(lines, whole) if not keep]
            with open(self.path(DROPPED_CANDIDATES), "a", encoding="utf-8") as handle:
                handle.writelines([*unreadable, *partial])
                handle.flush()
                os.fsync(handle.fileno())
            fd, tmp = tempfile.mkstemp(prefix=".candidates.", dir=self.directory)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.writelines(json.dumps(line.to_json(), ensure_ascii=False) + "\n" for line in kept)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path(CANDIDATES))
        return [line.candidate for line in kept], dropped


def read_candidate_lines(directory: Path) -> tuple[list[CandidateLine], list[str]]:
    """candidates.jsonl's lines in file order, read back (CandidateLine), and its lines that are
    not one (as read).

    The one policy for a bad line, for every reader: it is skipped and counted, never fatal.
    Appends are whole batches, so a crash leaves at most a torn last line; a line that is not
    JSON or not a candidate (CandidateLine.from_json refuses it) is skipped the same wherever it
    is. On top of this, resume keeps whole batches only (RunLog.repair_candidates) and replay
    tells the user how many lines it skipped."""
    path = Path(directory) / CANDIDATES
    lines: list[CandidateLine] = []
    unreadable: list[str] = []
    if not path.exists():
        return lines, unreadable
    with open(path, encoding="utf-8", errors="replace") as handle:
        for text in handle:
            if not text.strip():
                continue
            try:
                record = json.loads(text)
                lines.append(CandidateLine.from_json(record))
            except (ValueError, KeyError, TypeError):
                unreadable.append(text if text.endswith("\n") else text + "\n")
    return lines, unreadable


def read_candidates(directory: Path) -> list[Candidate]:
    """The readable candidates (read_candidate_lines' policy), for readers that need neither the
    verdict's threshold and weights nor a count of what was skipped."""
    return [line.candidate for line in read_candidate_lines(directory)[0]]
