"""The verifier's signals and the verification gap: program consensus, the picks of N, the
reviewer blind to restated tasks, the frozen verifier across a training step (real model),
and `--eval-samples` / `eval --samples` end to end."""

from __future__ import annotations

import json

import pytest
import torch
from typer.testing import CliRunner

from inversion_tui.loop import events as ev
from inversion_tui.loop.engine import Engine
from inversion_tui.loop.evaluation import EvalTask
from inversion_tui.loop.gap import best_of, picks, verification_gap
from inversion_tui.loop.pipeline import score_commands
from inversion_tui.loop.runlog import EVAL_SAMPLES, PROGRESS, RunLog
from inversion_tui.loop.score import ScoringContext, program_consensus
from inversion_tui.settings import build_settings
from inversion_tui.tasks import load_packs
from tests.fakes import FakeBackend


def read_jsonl(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_consensus_is_the_share_of_the_tasks_other_candidates_naming_the_same_program():
    tasks = ["list files"] * 4 + ["count lines"] * 2 + ["scan"]
    commands = ["ls -la", "sudo ls /tmp", "ls", "find . -type f",  # three ls of four
                "wc -l f", "",  # an empty command names no program
                "nmap host"]  # a task with one candidate has no consensus
    values = program_consensus(tasks, [""] * len(tasks), ScoringContext(commands=commands, tasks=tasks))
    assert values == [pytest.approx(2 / 3)] * 3 + [0.0] + [0.0, 0.0] + [None]


def rows(task_index: int, *samples: tuple[float, bool, tuple[str, ...]]) -> list[dict]:
    return [{"index": task_index, "task": f"t{task_index}", "sample": i, "score": score, "flags": list(flags),
             "utility": right, "exact": False, "token_f1": 1.0 if right else 0.25, "components": {"c": score}}
            for i, (score, right, flags) in enumerate(samples)]


SAMPLES = (rows(0, (0.9, False, ("copies_task",)), (0.6, True, ()), (0.2, False, ()))  # the flag is passed over
           + rows(1, (0.3, False, ()), (0.7, False, ()))  # no right one: the oracle fails too
           + rows(2, (0.5, True, ()), (0.4, True, ())))
GREEDY = [{"index": i, "task": f"t{i}", "utility": right, "exact": False, "token_f1": 0.5}
          for i, right in enumerate((False, False, True))]


def test_best_of_n_is_the_highest_scoring_unflagged_sample():
    assert best_of(SAMPLES[:3], lambda r: r["score"])["sample"] == 1
    all_flagged = rows(5, (0.2, False, ("empty",)), (0.4, False, ("not_a_command",)))
    assert best_of(all_flagged, lambda r: r["score"])["sample"] == 1


def test_the_picks_and_their_paired_change_against_greedy():
    chosen = picks(SAMPLES)
    assert [r["utility"] for r in chosen["best_of_n"]] == [True, False, True]
    assert [r["utility"] for r in chosen["oracle_of_n"]] == [True, False, True]
    assert [r["token_f1"] for r in chosen["oracle_of_n"]] == [1.0, 0.25, 1.0]
    assert picks(SAMPLES, seed=3)["random_of_n"] == picks(SAMPLES, seed=3)["random_of_n"]  # seeded
    gap = verification_gap(GREEDY, SAMPLES, components=["c"])
    assert gap.samples == 3
    assert gap.greedy.utility_accuracy == pytest.approx(1 / 3)
    assert gap.best_of_n.utility_accuracy == pytest.approx(2 / 3)
    assert gap.best_of_n.vs_greedy.delta["utility_accuracy"] == pytest.approx(1 / 3)
    assert gap.best_of_n.vs_greedy.gained == 1 and gap.best_of_n.vs_greedy.lost == 0
    assert gap.best_share_of_oracle == pytest.approx(1.0)
    # the component alone picks the flagged 0.9 last (flags first), like the score: 2 of 3 right
    assert gap.components["c"]["pick_utility"] == pytest.approx(2 / 3)
    # pooled over the 7 samples: right ones score 0.6, 0.5, 0.4; wrong ones 0.9, 0.2, 0.3, 0.7
    assert gap.sample_auroc == pytest.approx(6 / 12)


def test_the_reviewer_gains_nothing_from_restating_the_task(real_backend):
    """An echo of the task makes the task likely to the model; the reviewer reads the echo's
    text blanked, so the restatement is worth exactly what any other echo is."""
    from inversion_tui.loop.invert import inverse_prompt

    task = "Scan port 80 on 192.168.1.1"
    examples = load_packs("pentest").examples[:2]
    commands = [f'echo "{task}"', 'echo "good morning to you"', f"ls -la # {task}", "ls -la"]
    scored = score_commands(real_backend, [task] * 4, commands, weights={"reviewer_pmi": 1.0}, examples=examples,
                            max_new_tokens=24, always=("reviewer", "reviewer_pmi"))
    pmi = [s.components["reviewer_pmi"] for s in scored]
    assert pmi[0] == pytest.approx(pmi[1], abs=1e-6) and pmi[2] == pytest.approx(pmi[3], abs=1e-6)
    # ...and the blanking is what does it: read whole, the echo would make the task far likelier
    whole, blanked = real_backend.log_likelihood(
        [inverse_prompt(real_backend, commands[0], examples), inverse_prompt(real_backend, "echo <TEXT>", examples)],
        [task, task])
    assert sum(whole) / len(whole) > sum(blanked) / len(blanked) + 0.5


@pytest.mark.slow
def test_the_frozen_verifier_scores_identically_after_a_training_step(real_backend):
    from inversion_tui.loop.backend import TrainingPair
    from inversion_tui.loop.generate import forward_prompt

    pack = load_packs("pentest,shell")
    examples = pack.examples[:2]
    tasks = ["Scan port 80 on 192.168.1.1", "Count the lines of notes.txt", "List the files in /var/log"]
    commands = ["nmap -p 80 192.168.1.1", "wc -l notes.txt", "ls /var/log"]
    weights = {"embed": 1.0, "coder": 1.0, "reviewer": 1.0, "reviewer_pmi": 1.0}

    def score(verifier):
        return [(s.reconstruction, s.components) for s in score_commands(
            real_backend, tasks, commands, weights=weights, examples=examples, max_new_tokens=24, verifier=verifier)]

    trainable = {n: p.detach().clone() for n, p in real_backend.model.named_parameters() if p.requires_grad}
    before_base, before_policy = score("base"), score("policy")
    assert before_base == before_policy  # a fresh adapter is the base (LoRA B = 0)
    try:
        # A deliberately large step on unrelated pairs, so the policy surely moves.
        pairs = [TrainingPair(forward_prompt(real_backend, t, examples), "echo done") for t in tasks]
        real_backend.train(pairs, lr=5e-2, batch_size=3, epochs=2, seed=0)
        after_base, after_policy = score("base"), score("policy")
    finally:
        with torch.no_grad():
            for name, param in real_backend.model.named_parameters():
                if name in trainable:
                    param.copy_(trainable[name])
    assert after_base == before_base
    assert after_policy != before_policy


def fake_eval_tasks() -> list[EvalTask]:
    # the fake backend answers "<first word>ctl ...": these references make its programs right
    return [EvalTask("List the files in /tmp", ("listctl /tmp",), group="list"),
            EvalTask("Scan port 22 on 10.0.0.5", ("nmap 10.0.0.5",), group="scan"),
            EvalTask("Count the lines of a.txt", ("countctl a.txt",), group="count")]


def test_a_run_with_eval_samples_records_the_gap_each_cycle(tmp_path):
    backend = FakeBackend()
    settings = build_settings(cycles=1, tasks=2, candidates=2, gen_batch_size=2, output=tmp_path / "run",
                              pack="pentest,shell", eval_samples=3)
    engine = Engine(settings, backend, load_packs(settings.pack), RunLog.create(settings.output),
                    emit=ev.EventRecorder(), eval_sets={"mine": fake_eval_tasks()})
    assert engine.run() == "finished"
    progress = json.loads((tmp_path / "run" / PROGRESS).read_text())
    gaps = [e["gap"] for e in progress["evaluations"]]
    assert len(gaps) == 2  # the base model and cycle 1
    for gap in gaps:
        assert gap["samples"] == 3
        assert gap["greedy"]["utility_accuracy"] == pytest.approx(2 / 3)
        assert gap["oracle_of_n"]["utility_accuracy"] == pytest.approx(2 / 3)
        assert {"coder", "reviewer", "reviewer_pmi", "consensus", "embed"} <= set(gap["components"])
    samples = read_jsonl(tmp_path / "run" / EVAL_SAMPLES)
    assert len(samples) == 2 * 3 * 3 and {(s["cycle"], s["set"]) for s in samples} == {(0, "mine"), (1, "mine")}
    assert backend.base_weights_calls > 0  # the default verifier scores on the base weights


def test_a_weights_change_during_evaluation_reaches_the_sets_scored_after_it(tmp_path):
    """The weights are read as each held-out set is scored: a change made live while the first
    set runs (between its batches, where the engine takes it up) scores the second."""
    from inversion_tui.loop.heldout import HeldOut

    first, second = {"embed": 1.0}, {"reviewer": 1.0}

    def evaluate(name: str, weights, between_batches=lambda: None):
        settings = build_settings(cycles=1, tasks=2, candidates=2, gen_batch_size=2, output=tmp_path / name,
                                  pack="pentest,shell")
        heldout = HeldOut({"one": fake_eval_tasks(), "two": fake_eval_tasks()}, settings, FakeBackend(),
                          RunLog.create(settings.output), [], lambda event: None)
        return heldout.evaluate(0, weights, between_batches, lambda evaluation: None)

    in_force = [first]
    calls = []

    def between_batches():  # the first set has two batches: the change lands between them
        calls.append(1)
        if len(calls) == 2:
            in_force[0] = second

    changed = evaluate("changed", lambda: in_force[0], between_batches)
    only_first, only_second = evaluate("first", lambda: first), evaluate("second", lambda: second)
    assert only_first["one"].mean_score != only_second["one"].mean_score  # the weights matter here
    assert changed["one"].mean_score == only_first["one"].mean_score  # read when the set began
    assert changed["two"].mean_score == only_second["two"].mean_score


def test_the_policy_verifier_never_switches_the_adapter_off(tmp_path):
    backend = FakeBackend()
    settings = build_settings(cycles=1, tasks=2, candidates=2, output=tmp_path / "run", pack="pentest",
                              verifier="policy")
    Engine(settings, backend, load_packs(settings.pack), RunLog.create(settings.output),
           emit=ev.EventRecorder()).run()
    assert backend.base_weights_calls == 0


def test_eval_samples_json_has_every_pick_and_each_components_auroc(tmp_path, monkeypatch):
    from cli.main import app

    tasks_file = tmp_path / "tasks.jsonl"
    tasks_file.write_text("".join(json.dumps({"task": t.task, "references": list(t.references)}) + "\n"
                                  for t in fake_eval_tasks()))
    monkeypatch.setattr("inversion_tui.hf.backend.HFBackend.load", lambda settings, log=None: FakeBackend())
    result = CliRunner().invoke(app, ["eval", "--tasks-file", str(tasks_file), "--samples", "4", "--json",
                                      "--save-samples", str(tmp_path / "samples.jsonl")])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    for pick in ("greedy", "best_of_n", "random_of_n", "oracle_of_n"):
        assert {"utility_accuracy", "exact_match", "token_f1"} <= set(report[pick])
    assert report["samples"] == 4 and report["verifier"] == "base"
    assert "auroc" in report["components"]["coder"]
    assert len(read_jsonl(tmp_path / "samples.jsonl")) == 3 * 4


async def test_the_scorer_tab_shows_the_gap_per_cycle(tmp_path):
    from inversion_tui.tui.widgets.scorer import ScorerPanel
    from tests.test_tui import make_app, text_of, wait_for

    app = make_app(tmp_path, FakeBackend(), eval_sets={"mine": fake_eval_tasks()}, eval_samples=3)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.finished_status, what="the run to finish")
        await pilot.press("a")
        shown = text_of(app.query_one(ScorerPanel))
    assert "verification gap, held-out, 3 samples per task" in shown
    rows = [line for line in shown.splitlines() if " mine " in line]
    assert len(rows) == 2  # the base model and cycle 1
    assert all("0.67" in row and "emb" in row and "cod" in row for row in rows)  # greedy 2/3; component AUROCs
    assert shown.count("cons 0.50") == 2


def test_a_held_out_sets_name_in_the_gap_table_is_text_not_markup():
    from rich.console import Console

    from inversion_tui.loop.progress import Evaluation
    from inversion_tui.tui.widgets.scorer import gap_table

    gap = verification_gap(GREEDY, SAMPLES, components=["embed"])
    console = Console(width=200, record=True, file=__import__("io").StringIO())
    console.print(gap_table([Evaluation(cycle=1, set="[bold]evil[/]", gap=gap)]))  # an --eval-file named so
    assert "[bold]evil[/]" in console.export_text()
