"""What the TUI costs the loop: the same run headless and in the TUI, on the bundled model.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/tui_overhead.py [--tasks 8] [--candidates 3] [--repeats 1]

Both runs have the same settings and seed, so the same workload. The figure compared is the
engine's own cycle time (`duration_s` in progress.json), which excludes model loading and app
start-up: what a user waits for per cycle. The TUI run is a real terminal (tmux, 160x48); it
is quit with `q` once progress.json says finished. Headless and TUI alternate, so drift on a
shared machine falls on both. Prints the figures and writes benchmarks/results/tui_overhead.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess  # benchmark harness only: runs the CLI and drives tmux, never a generated command
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from inversion_tui.loop.progress import Progress
from inversion_tui.loop.runlog import PROGRESS

SESSION = "inversion-tui-overhead"
CLI = str(ROOT / ".venv" / "bin" / "inversion-tui")


def run_args(output: Path, args) -> list[str]:
    return ["run", "--cycles", "1", "--tasks", str(args.tasks), "--candidates", str(args.candidates),
            "--pack", "pentest,shell", "--seed", "0", "--output", str(output)]


def cycle_seconds(output: Path) -> float:
    return Progress.read(output).cycles[0].duration_s


def headless(output: Path, args) -> float:
    subprocess.run([CLI, *run_args(output, args), "--headless"], check=True, capture_output=True,
                   env={**os.environ, "HF_HUB_OFFLINE": "1"})
    return cycle_seconds(output)


def in_tui(output: Path, args) -> float:
    command = " ".join([f"HF_HUB_OFFLINE=1 {CLI}", *run_args(output, args)])
    subprocess.run(["tmux", "new-session", "-d", "-s", SESSION, "-x", "160", "-y", "48", command], check=True)
    try:
        deadline = time.monotonic() + 1800
        while True:
            if (output / PROGRESS).exists() and Progress.read(output).status == "finished":
                break
            if time.monotonic() > deadline:
                raise SystemExit("the TUI run did not finish in 30 minutes")
            time.sleep(1)
        subprocess.run(["tmux", "send-keys", "-t", SESSION, "q"], check=True)
        time.sleep(2)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)
    return cycle_seconds(output)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=8)
    parser.add_argument("--candidates", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "tui_overhead.json")
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        raise SystemExit("tmux is needed to run the TUI in a real terminal")
    figures = {"headless": [], "tui": []}
    with tempfile.TemporaryDirectory() as scratch:
        for repeat in range(args.repeats):
            for name, runner in (("headless", headless), ("tui", in_tui)):
                seconds = runner(Path(scratch) / f"{name}-{repeat}", args)
                figures[name].append(seconds)
                print(f"{name:8} cycle {seconds:7.1f} s", flush=True)
    mean = {name: sum(values) / len(values) for name, values in figures.items()}
    report = {
        "benchmark": "tui_overhead", "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count(), "python": platform.python_version()},
        "workload": {"cycles": 1, "tasks": args.tasks, "candidates": args.candidates, "seed": 0},
        "cycle_seconds": figures, "tui_over_headless": round(mean["tui"] / mean["headless"], 3),
    }
    print(f"TUI / headless cycle time: {report['tui_over_headless']:.3f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    sys.exit(main())
