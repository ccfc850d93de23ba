"""The command line: bad input is one line on stderr and exit 2; `score --json` on the real model."""

import json

import pytest
from typer.testing import CliRunner

from cli.main import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(args))


def assert_one_line_error(result, expected: str):
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    # progress lines may come first (e.g. "loading ..."); the error is one line, and the last
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], result.stderr
    assert expected in errors[0], errors[0]


@pytest.fixture
def broken_pack(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("templates:\n  - task: Scan {port}\n")
    return path


BAD_RUN_INPUT = [
    (["--threshold", "1.5"], "--threshold: Input should be less than or equal to 1"),
    (["--threshold", "-0.1"], "--threshold"),
    (["--cycles", "0"], "--cycles: Input should be greater than or equal to 1"),
    (["--tasks", "0"], "--tasks"),
    (["--candidates", "0"], "--candidates"),
    (["--quant", "8bit"], "--quant"),
    (["--weights", "bogus=1"], "unknown component 'bogus'"),
    (["--weights", "embed"], "expected name=value"),
    (["--weights", "reviewer=0,consensus=0,doc=0,doc_options=0"], "at least one weight must be > 0"),
    (["--pack", "nope"], "unknown task pack 'nope'"),
    (["--eval-suite", "nope"], "--eval-suite: unknown suite 'nope' (known: intercode, intercode:a, intercode:b, holdout, pool)"),
    (["--eval-suite", "intercode,intercode"], "--eval-suite: a suite is named twice"),
    (["--eval-suite", "intercode,holdout"], "--eval-suite holdout needs --holdout F"),
    (["--eval-limit", "0"], "--eval-limit"),
    (["--eval-file", "/nonexistent/held_out.jsonl"], "/nonexistent/held_out.jsonl: cannot read"),
]


MISTYPED = [  # issue 26: Typer printed each of these as a six-line box
    (["run", "--tasks", "abc"], "Invalid value for '--tasks'"),
    (["run", "--cycles", "1.5"], "Invalid value for '--cycles'"),
    (["eval", "--samples", "x"], "Invalid value for '--samples'"),
    (["run", "--no-such-flag"], "No such option: --no-such-flag (see "),  # the runner calls the program "root"
    (["no-such-command"], "No such command 'no-such-command'"),
    (["explain"], "Missing argument"),
]


@pytest.mark.parametrize("args,expected", MISTYPED, ids=[" ".join(a) for a, _ in MISTYPED])
def test_a_mistyped_flag_or_value_is_one_line_too(args, expected):
    result = invoke(*args)
    assert_one_line_error(result, expected)
    assert len(result.stderr.strip().splitlines()) == 1 and "╭" not in result.output


def test_no_command_still_shows_the_help():
    result = invoke()
    assert "Usage: " in result.stdout and "explain" in result.stdout


@pytest.mark.parametrize("args,expected", BAD_RUN_INPUT, ids=[" ".join(a) for a, _ in BAD_RUN_INPUT])
def test_bad_run_input_is_one_line_and_exit_2(tmp_path, args, expected):
    result = invoke("run", "--headless", "--output", str(tmp_path / "out"), *args)
    assert_one_line_error(result, expected)
    assert not (tmp_path / "out").exists()  # validated before anything is written


def test_broken_pack_names_file_and_line(tmp_path, broken_pack):
    result = invoke("run", "--headless", "--output", str(tmp_path / "out"), "--pack", str(broken_pack))
    assert_one_line_error(result, f"{broken_pack}:2: unknown slot {{port}}")


def test_unwritable_output(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = invoke("run", "--headless", "--output", str(blocker / "run"))
    assert_one_line_error(result, "cannot write to")


def test_existing_run_is_not_overwritten(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "progress.json").write_text('{"last_completed_cycle": 3}')
    result = invoke("run", "--headless", "--output", str(run))
    assert_one_line_error(result, "already holds a run")
    assert json.loads((run / "progress.json").read_text()) == {"last_completed_cycle": 3}


@pytest.mark.parametrize("model,expected", [
    ("/no/such/model/dir", "no such directory"),
    ("no-such-org/no-such-model-xyz", "cannot load model 'no-such-org/no-such-model-xyz'"),
])
def test_unknown_model_offline(tmp_path, model, expected):
    result = invoke("run", "--headless", "--output", str(tmp_path / "out"), "--model", model)
    assert_one_line_error(result, expected)


def test_bad_model_path_is_refused_before_the_run_directory_exists(tmp_path):
    result = invoke("run", "--headless", "--output", str(tmp_path / "out"), "--embedder", "./missing-embedder")
    assert_one_line_error(result, "embedder './missing-embedder': no such directory")
    assert not (tmp_path / "out").exists()


def test_type_errors_are_usage_errors_not_tracebacks():
    result = invoke("run", "--cycles", "many")
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_score_json_with_the_real_model():
    result = invoke("score", "Scan port 80 on 192.168.1.1", "nmap -p 80 192.168.1.1", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"task", "command", "reconstruction", "components", "score", "flags", "accepted"} <= set(data)
    assert set(data["components"]) == {"embed", "overlap", "difflib", "self_rating", "overlap_masked",
                                       "difflib_masked", "coder", "reviewer", "reviewer_pmi", "consensus",
                                       "documented", "doc", "doc_options", "options_known"}
    assert data["components"]["documented"] == 1.0  # nmap has a manual page
    [nmap] = data["explanation"]
    assert (nmap["program"], nmap["documented"], [o["option"] for o in nmap["options"]]) == ("nmap", True, ["-p"])
    assert all(v is None or 0 <= v <= 1 for v in data["components"].values())
    # score computes every component it can: the likelihood terms too; consensus needs other candidates
    assert all(data["components"][name] is not None for name in ("coder", "reviewer", "reviewer_pmi"))
    assert data["components"]["consensus"] is None
    assert data["reconstruction"] and data["flags"] == []
    assert data["accepted"] == (data["score"] >= data["threshold"])


def test_score_flags_a_gamed_command():
    result = invoke("score", "Scan port 80 on 192.168.1.1", 'echo "scan port 80 on 192.168.1.1"', "--json")
    data = json.loads(result.stdout)
    assert data["flags"] == ["copies_task"] and data["accepted"] is False


def test_score_human_output_lists_every_component():
    result = invoke("score", "Count the lines in notes.txt", "wc -l notes.txt")
    assert result.exit_code == 0, result.output
    for word in ("reconstruction", "embed", "overlap", "difflib", "self_rating", "score"):
        assert word in result.stdout


def test_4bit_without_bitsandbytes(tmp_path, monkeypatch):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "bitsandbytes" else real_find_spec(name, *a))
    result = invoke("run", "--headless", "--output", str(tmp_path / "out"), "--quant", "4bit")
    assert_one_line_error(result, "--quant 4bit needs bitsandbytes")


def test_resume_with_an_adapter_that_does_not_fit_the_model(tmp_path):
    from inversion_tui.loop.control import RunControl
    from inversion_tui.loop.engine import Engine
    from inversion_tui.loop.runlog import RunLog
    from inversion_tui.settings import build_settings
    from inversion_tui.tasks import load_packs
    from tests.fakes import FakeBackend

    settings = build_settings(cycles=2, tasks=2, candidates=1, output=tmp_path / "run")
    control = RunControl(settings.threshold, settings.weights)

    def stop_in_cycle_2(event):
        if getattr(event, "cycle", 0) == 2:
            control.request_stop()

    Engine(settings, FakeBackend(), load_packs("pentest"), RunLog.create(settings.output), emit=stop_in_cycle_2,
           control=control).run()
    # the fake backend's "adapter" is not LoRA weights of the bundled model
    (tmp_path / "run" / "checkpoint_cycle_1" / "adapter_model.safetensors").write_bytes(b"not safetensors")
    result = invoke("run", "--headless", "--resume", str(tmp_path / "run"))
    assert_one_line_error(result, "adapter")
    assert "does not fit model" in result.stderr


def test_a_failed_start_leaves_no_lock(tmp_path):
    result = invoke("run", "--headless", "--output", str(tmp_path / "out"), "--model", "no-such-org/no-such-model")
    assert result.exit_code == 2
    assert not (tmp_path / "out").exists()  # no lock, and no empty run directory either


def test_an_adapter_error_with_no_message_is_still_one_line(tmp_path, monkeypatch):
    import safetensors.torch

    from inversion_tui.errors import ModelLoadError
    from inversion_tui.hf.backend import HFBackend, LoadedModels

    def silent_failure(path):
        raise RuntimeError()

    monkeypatch.setattr(safetensors.torch, "load_file", silent_failure)
    backend = HFBackend(LoadedModels(model=None, tokenizer=None, embedder=None, device="cpu",
                                     description={"model": "m"}, prefix_cache=False))
    with pytest.raises(ModelLoadError, match=r"adapter .* does not fit model m: RuntimeError$"):
        backend.load_adapter(tmp_path)


def test_after_a_ctrl_c_stop_a_further_ctrl_c_cannot_kill_the_exit():
    import signal

    from cli.main import _stop_on_ctrl_c
    from inversion_tui.loop.control import RunControl

    original = signal.getsignal(signal.SIGINT)
    try:
        running = RunControl(0.5, {"embed": 1.0})
        with _stop_on_ctrl_c(running, lambda message: None):
            pass
        assert signal.getsignal(signal.SIGINT) is original  # no stop: the old handler is back

        stopped = RunControl(0.5, {"embed": 1.0})
        with _stop_on_ctrl_c(stopped, lambda message: None):
            signal.getsignal(signal.SIGINT)(signal.SIGINT, None)  # the first Ctrl-C
        assert stopped.stop_requested
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN  # teardown is safe from a second
    finally:
        signal.signal(signal.SIGINT, original)


@pytest.mark.parametrize("make,message", [
    (lambda d: None, "no such run directory"),
    (lambda d: d.mkdir(), "is not a run directory (no settings.json)"),
])
def test_inspect_refuses_what_is_not_a_run_in_one_line(tmp_path, make, message):
    make(tmp_path / "nope")
    result = invoke("inspect", str(tmp_path / "nope"))
    assert result.exit_code == 2 and message in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_inspect_needs_a_terminal(tmp_path, fake_backend):
    from tests.test_scorer_debugging import finished_run

    directory = finished_run(tmp_path, fake_backend)
    result = invoke("inspect", str(directory))
    assert result.exit_code == 2 and "inspect needs a terminal" in result.output


def test_run_help_groups_its_flags_and_shows_no_bool_placeholder():
    result = invoke("run", "--help")
    assert result.exit_code == 0
    assert "<bool>" not in result.output  # a flag takes no value
    for panel in ("Loop", "Scoring", "Model", "Evaluation", "Output", "Examples"):
        assert panel in result.output, panel


def test_a_headless_run_ends_with_a_summary_and_the_next_step(tmp_path, monkeypatch):
    from tests.fakes import FakeBackend

    monkeypatch.setattr("inversion_tui.hf.backend.HFBackend.load", lambda settings, log=None: FakeBackend())
    result = invoke("run", "--headless", "--cycles", "1", "--tasks", "2", "--candidates", "1",
                    "--output", str(tmp_path / "run"))
    assert result.exit_code == 0, result.output
    assert "finished: 1 cycle(s) completed" in result.stderr
    assert "intrinsic score" in result.stderr
    assert f"next: inversion-tui inspect {tmp_path / 'run'}" in result.stderr


def test_a_hub_id_with_no_network_is_one_line_fast_and_leaves_nothing(tmp_path):
    """As a user without network meets it: HF_HUB_OFFLINE unset, the hub unreachable (an
    endpoint on this machine that refuses connections stands in for a missing network)."""
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env["HF_ENDPOINT"] = "http://127.0.0.1:9"
    env["HF_HOME"] = str(tmp_path / "hf-home")  # an empty cache
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "cli.main", "run", "--headless", "--model",
                             "mistralai/Mistral-7B-Instruct-v0.2", "--output", str(tmp_path / "out")],
                            cwd=Path(__file__).resolve().parent.parent, env=env, capture_output=True, text=True,
                            timeout=120)
    elapsed = time.monotonic() - started
    assert result.returncode == 2 and elapsed < 15, (elapsed, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: cannot load model 'mistralai/Mistral-7B-Instruct-v0.2'")
    assert "cannot be reached" in lines[0]
    assert not (tmp_path / "out").exists()


def test_resuming_a_finished_run_says_so_in_one_line_without_loading_a_model(tmp_path):
    """Issue 26: it said `resuming at cycle 2`, loaded the model, then reprinted the summary."""
    from inversion_tui.loop.engine import Engine
    from inversion_tui.loop.runlog import RunLog
    from inversion_tui.settings import build_settings
    from inversion_tui.tasks import load_packs
    from tests.fakes import FakeBackend

    settings = build_settings(cycles=1, tasks=2, candidates=2, output=tmp_path / "run", pack="pentest")
    Engine(settings, FakeBackend(), load_packs("pentest"), RunLog.create(settings.output)).run()
    before = {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir() if p.is_file()}
    result = invoke("run", "--headless", "--resume", str(tmp_path / "run"))  # no model line: none loads
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == (f"{tmp_path / 'run'} has completed all 1 of its cycles (--cycles 2 or more "
                                     f"adds cycles); nothing to resume (inversion-tui inspect {tmp_path / 'run'} "
                                     "shows it)")
    assert {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir() if p.is_file()} == before


def test_every_setting_is_a_flag_of_run_with_its_default_and_help():
    """Issue 25: a flag is declared once, by its setting (name, default, docstring, panel)."""
    import re

    import click
    import typer

    from inversion_tui.settings import EvalSettings, RunSettings

    def words(text):
        return re.sub(r"`|--", "", " ".join(text.split())).replace("-", "_")

    def options(name):
        command = typer.main.get_command(app).commands[name]
        return {p.name: p for p in command.params if isinstance(p, click.Option) or hasattr(p, "opts")}

    run = options("run")
    for name, field in RunSettings.model_fields.items():
        if name == "weights":  # --weights NAME=VALUE,... (with --self-rating and --mask-literals)
            continue
        param = run[name]
        assert param.opts == ["--" + name.replace("_", "-")]
        default = None if field.default == () else field.default  # a tuple is given comma-separated
        assert param.default == default, name
        # the docstring, with the settings it names spelled as flags (`select_k` -> --select-k)
        assert words(field.description)[-40:] in words(param.help), name
    evaluate = options("eval")
    assert set(EvalSettings.model_fields) <= set(evaluate)
    assert evaluate["prompt_pack"].default == RunSettings.model_fields["pack"].default


@pytest.mark.parametrize("args,expected", [
    (["--dpo-beta", "0.5"], "error: --dpo-beta is a setting of --objective dpo (this run's is sft)"),
    (["--objective", "ipo"], "error: --objective: unknown objective 'ipo' (known: sft, dpo)"),
    (["--engine", "vllm"], "error: --engine: unknown engine 'vllm' (known: hf)"),
    (["--select", "best"], "error: --select: unknown selection rule 'best' (known: threshold, best-per-task, top-k, keep-top)"),
])
def test_a_registry_names_what_a_setting_may_be(args, expected, tmp_path):
    """Objectives, engines and selection rules are registries; a name they lack is one line."""
    result = invoke("run", "--headless", "--output", str(tmp_path / "run"), *args)
    assert result.exit_code == 2 and result.stderr.strip().splitlines()[-1] == expected
    assert not (tmp_path / "run").exists()
