"""End to end with the real bundled model, through the real CLI, as a user runs it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def run_cli(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "cli.main", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def check_run_directory(run: Path, tasks: int, candidates: int, quant: str) -> None:
    for name in ("settings.json", "candidates.jsonl", "progress.json", "self_improvement_results.json"):
        assert (run / name).is_file(), name
    progress = json.loads((run / "progress.json").read_text())
    assert progress["last_completed_cycle"] == 1 and progress["status"] == "finished"
    assert progress["backend"]["quant"] == quant
    [cycle] = progress["history"]["cycles"]
    for phase in ("before", "after"):
        assert cycle[phase]["total_generated"] == tasks * candidates
        assert 0 <= cycle[phase]["acceptance_rate"] <= 1 and 0 <= cycle[phase]["mean_score"] <= 1
    lines = [json.loads(line) for line in (run / "candidates.jsonl").read_text().splitlines()]
    assert len(lines) == 2 * tasks * candidates
    assert all(0 <= line["score"] <= 1 for line in lines)
    assert cycle["train_examples"] == sum(line["accepted"] for line in lines if line["phase"] == "before")
    assert cycle["train_examples"] > 0 and cycle["train_loss"] is not None and cycle["train_loss"] > 0
    results = json.loads((run / "self_improvement_results.json").read_text())
    assert results["summary"]["cycles_completed"] == 1
    # held-out evaluation of the base model and of the cycle-1 adapter, on the same 4 tasks
    assert [e["cycle"] for e in progress["evaluations"]] == [0, 1]
    assert all(e["n"] == 4 and 0 <= e["utility_accuracy"] <= 1 for e in progress["evaluations"])
    assert cycle["eval"]["intercode"]["cycle"] == 1
    # per-task rows of both evaluations, and the cycle compared with the base task by task
    rows = [json.loads(line) for line in (run / "evaluations.jsonl").read_text().splitlines()]
    assert [(r["cycle"], r["index"]) for r in rows] == [(c, i) for c in (0, 1) for i in range(4)]
    assert progress["evaluations"][1]["vs_base"]["n"] == 4


def check_adapter_reloads_and_was_trained(run: Path) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from inversion_tui.hf.models import ensure_bundled_generator

    checkpoint = run / "checkpoint_cycle_1"
    assert (checkpoint / "adapter_config.json").is_file()
    base = AutoModelForCausalLM.from_pretrained(ensure_bundled_generator())
    model = PeftModel.from_pretrained(base, checkpoint)
    lora_b = [p for n, p in model.named_parameters() if "lora_B" in n]
    assert lora_b, "no LoRA weights in the adapter"
    # LoRA B starts at zero: non-zero B means training changed the adapter
    assert any(p.abs().sum().item() > 0 for p in lora_b)
    assert all(torch.isfinite(p).all() for p in lora_b)


@pytest.mark.parametrize("quant", ["none", "4bit"])
def test_one_cycle_headless_run(tmp_path, quant):
    run = tmp_path / f"run-{quant}"
    result = run_cli("run", "--headless", "--cycles", "1", "--tasks", "4", "--candidates", "2",
                     "--threshold", "0", "--max-new-tokens", "24", "--quant", quant, "--output", str(run),
                     "--eval-suite", "intercode", "--eval-limit", "4")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    for noise in ("Failed to load", "kernels-community", "Warning", "Retrying"):  # libraries keep quiet
        assert noise not in result.stderr, noise
    assert "finished: 1 cycle(s) completed" in result.stderr
    assert "held-out intercode (base model, n=4): utility accuracy" in result.stderr
    check_run_directory(run, tasks=4, candidates=2, quant=quant)
    check_adapter_reloads_and_was_trained(run)


def test_the_loop_learns_an_intercode_half_measured_on_the_other(tmp_path):
    """Issue 32: InterCode's half A as the pool (its descriptions), half B the held-out suite."""
    run = tmp_path / "run"
    result = run_cli("run", "--headless", "--cycles", "1", "--tasks", "2", "--candidates", "2",
                     "--select", "keep-top", "--keep-top", "0.5", "--max-new-tokens", "24",
                     "--tasks-from", "intercode:a", "--eval-suite", "intercode:b", "--eval-limit", "2",
                     "--output", str(run))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "held-out intercode:b (base model, n=2)" in result.stderr
    from inversion_tui.eval_sets import load_intercode_half

    half_a = {t.task for t in load_intercode_half("intercode:a", "x")}
    half_b = [t.task for t in load_intercode_half("intercode:b", "x")][:2]
    drawn = [json.loads(line)["task"] for line in (run / "candidates.jsonl").read_text().splitlines()]
    assert drawn and all(task in half_a for task in drawn)
    rows = [json.loads(line) for line in (run / "evaluations.jsonl").read_text().splitlines()]
    assert [r["task"] for r in rows if r["cycle"] == 1] == half_b
    progress = json.loads((run / "progress.json").read_text())
    [cycle] = progress["history"]["cycles"]
    assert cycle["train_examples"] == 1  # keep-top 0.5 of 2 tasks: one task's best, whatever its score


def test_the_loop_learns_a_users_file_and_proves_it_on_the_half_it_held_back(tmp_path):
    tasks = tmp_path / "mine.jsonl"
    tasks.write_text("".join(json.dumps({"task": t, "references": [r]}) + "\n" for t, r in [
        ("Count the lines in notes.txt", "wc -l notes.txt"), ("Show disk usage of /var", "du -sh /var"),
        ("Print the current date", "date"), ("List the files in /tmp", "ls /tmp")]))
    run = tmp_path / "run"
    result = run_cli("run", "--headless", "--cycles", "1", "--tasks", "2", "--candidates", "2", "--threshold", "0",
                     "--max-new-tokens", "24", "--tasks-from", str(tasks), "--holdout", "0.5",
                     "--eval-suite", "holdout", "--output", str(run))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "holding out 2 of 4 tasks from training" in result.stderr
    assert "held-out holdout (base model, n=2 in 2 groups)" in result.stderr  # each task its own group
    rows = [json.loads(line) for line in (run / "evaluations.jsonl").read_text().splitlines()]
    held = {r["task"] for r in rows}
    drawn = {json.loads(line)["task"] for line in (run / "candidates.jsonl").read_text().splitlines()}
    assert len(held) == 2 and len(drawn) == 2 and not held & drawn  # trained and held out never meet
