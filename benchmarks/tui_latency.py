"""Key-press latency of the TUI, as a user sees it, while the real model generates.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/tui_latency.py [--presses 20]

Runs `inversion-tui run` on the bundled model in a real terminal (tmux, 160x48), sends "+"
and "-" alternately, and times each press until the screen shows the new threshold in the
header. "busy" presses land while the engine thread is inside generate calls; "idle" presses
land after the run has finished, in the same app: the baseline. Needs tmux. Each screen poll
costs a few ms (a tmux call), so figures are upper bounds with that resolution.
Prints the figures and writes benchmarks/results/tui_latency.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess  # benchmark harness only: drives tmux, never a generated command
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SESSION = "inversion-tui-latency"


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=True).stdout


def header() -> str:
    return tmux("capture-pane", "-p", "-t", SESSION, "-E", "0")


def threshold_shown() -> str | None:
    match = re.search(r"threshold (\d\.\d\d)", header())
    return match.group(1) if match else None


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}; screen:\n{tmux('capture-pane', '-p', '-t', SESSION)}")
        time.sleep(0.05)


def timed_press(key: str) -> float:
    before = threshold_shown()
    start = time.perf_counter()
    tmux("send-keys", "-t", SESSION, key)
    while threshold_shown() == before:
        pass
    return time.perf_counter() - start


def summary(values: list[float]) -> dict:
    ordered = sorted(values)
    return {"median_ms": round(statistics.median(ordered) * 1000, 1),
            "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 1),
            "max_ms": round(ordered[-1] * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--presses", type=int, default=20)
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        raise SystemExit("tmux is needed: apt-get install tmux")
    output = Path(tempfile.mkdtemp()) / "run"
    command = (f"cd {ROOT} && HF_HUB_OFFLINE=1 {sys.executable} -m cli.main run --cycles 1 --tasks 24 "
               f"--candidates 3 --output {output}; sleep 600")
    subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)
    tmux("new-session", "-d", "-s", SESSION, "-x", "160", "-y", "48", command)
    try:
        wait_until(lambda: "BEFORE" in header() and "RUNNING" in header(), 300, "the first pass")
        time.sleep(2)  # well inside the first generate call
        busy = []
        for i in range(args.presses):
            busy.append(timed_press("+" if i % 2 == 0 else "-"))
            time.sleep(0.2)
        busy_phase_ok = "FINISHED" not in header()
        wait_until(lambda: "FINISHED" in header(), 900, "the run to finish")
        idle = [timed_press("+" if i % 2 == 0 else "-") for i in range(args.presses)]
        tmux("send-keys", "-t", SESSION, "q")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)
    result = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cpu, Python {platform.python_version()}",
        "what": "key sent to a 160x48 tmux terminal -> header shows the new threshold",
        "presses": args.presses,
        "busy": summary(busy),
        "idle": summary(idle),
        "median_ratio_busy_over_idle": round(statistics.median(busy) / statistics.median(idle), 2),
        "engine_busy_for_all_busy_presses": busy_phase_ok,
    }
    print(f"while the model generates: median {result['busy']['median_ms']} ms, p90 {result['busy']['p90_ms']} ms, "
          f"max {result['busy']['max_ms']} ms")
    print(f"idle app (baseline):       median {result['idle']['median_ms']} ms, p90 {result['idle']['p90_ms']} ms, "
          f"max {result['idle']['max_ms']} ms")
    print(f"busy / idle median ratio: {result['median_ratio_busy_over_idle']}")
    out = ROOT / "benchmarks" / "results" / "tui_latency.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
