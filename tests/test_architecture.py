"""Layering rules that keep the engine reusable, and the rule that commands are never run."""

import builtins
import os
import pty
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_engine_imports_without_textual_or_rich():
    code = textwrap.dedent("""
        import sys
        import inversion_tui.loop.engine, inversion_tui.loop.train, inversion_tui.hf_backend
        bad = sorted(m for m in sys.modules if m.split('.')[0] in {'textual', 'rich'})
        print(','.join(bad))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == ""


def test_no_process_api_in_the_product():
    forbidden = ("subprocess", "os.system", "os.popen", "os.exec", "pty.spawn", "shell=True", "os.spawn")
    for path in list((ROOT / "inversion_tui").rglob("*.py")) + list((ROOT / "cli").rglob("*.py")):
        text = path.read_text()
        for word in forbidden:
            assert word not in text, f"{path.relative_to(ROOT)} mentions {word}"


def test_full_loop_with_process_apis_patched_to_raise(tmp_path, monkeypatch, fake_backend):
    from inversion_tui.loop.engine import Engine
    from inversion_tui.loop.runlog import RunLog
    from inversion_tui.settings import build_settings
    from inversion_tui.tasks import load_packs

    def refuse(*args, **kwargs):
        raise AssertionError(f"a process was started: {args!r}")

    for module, names in ((subprocess, ["Popen", "run", "call", "check_call", "check_output"]),
                          (os, ["system", "popen", "execv", "execve", "execvp", "execl", "spawnv"]),
                          (pty, ["spawn"])):
        for name in names:
            if hasattr(module, name):
                monkeypatch.setattr(module, name, refuse)
    settings = build_settings(cycles=1, tasks=4, candidates=2, threshold=0.0, output=tmp_path / "run")
    engine = Engine(settings, fake_backend, load_packs("pentest"), RunLog.create(settings.output))
    assert engine.run() == "finished"
