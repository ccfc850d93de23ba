"""Out of memory: halve and retry down to 1, say so, lose nothing. Tested by injecting the error."""

import math

import pytest
import torch

from inversion_tui.loop import events as ev
from inversion_tui.loop.backend import TrainingPair
from inversion_tui.loop.engine import Engine
from inversion_tui.loop.runlog import RunLog, read_candidates
from inversion_tui.hf.train import train_lora
from inversion_tui.settings import build_settings
from inversion_tui.tasks import load_packs
from tests.fakes import FakeBackend


def run_with(backend, tmp_path, name="run"):
    settings = build_settings(cycles=1, tasks=6, candidates=2, gen_batch_size=4, threshold=0.3,
                              output=tmp_path / name, pack="pentest,shell")
    recorder = ev.EventRecorder()
    Engine(settings, backend, load_packs(settings.pack), RunLog.create(settings.output), emit=recorder).run()
    return recorder


def test_generation_halves_the_batch_until_it_fits(tmp_path):
    reference = run_with(FakeBackend(), tmp_path, "reference")
    backend = FakeBackend(max_prompts=2)  # 4 tasks x 2 candidates = 8 inverse prompts do not fit
    recorder = run_with(backend, tmp_path)
    warnings = [e.message for e in recorder.of(ev.Log) if "out of memory" in e.message]
    assert [w.split(";")[0] for w in warnings] == ["out of memory generating for 4 tasks at once",
                                                   "out of memory generating for 2 tasks at once"]
    assert warnings[-1].endswith("retrying with 1 (kept for the rest of the run)")
    assert all(n <= 2 for _, n in backend.calls)
    got, expected = read_candidates(tmp_path / "run"), read_candidates(tmp_path / "reference")
    assert [(c.task, c.command, c.batch) for c in got] == [(c.task, c.command, c.batch) for c in expected]
    assert len(recorder.of(ev.RunFinished)) == 1 and recorder.of(ev.RunFinished)[0].status == "finished"


def test_a_retry_runs_after_the_failed_attempt_is_released(tmp_path):
    """Retrying inside the except block kept the failed attempt's frames (and on a GPU its
    tensors) alive through the retry, which then ran out of memory too."""
    backend = FakeBackend(max_prompts=2)
    run_with(backend, tmp_path)
    assert backend.attempts and backend.released == len(backend.attempts)
    assert max(backend.alive_at_call) == 0  # at every later call, nothing of a failed one lives


def test_one_task_that_does_not_fit_is_an_error(tmp_path):
    with pytest.raises(MemoryError):
        run_with(FakeBackend(max_prompts=0), tmp_path)


PROMPT = "<|im_start|>user\n{}<|im_end|>\n<|im_start|>assistant\n"
PAIRS = [TrainingPair(PROMPT.format(t), c) for t, c in [
    ("Count the lines in a.txt", "wc -l a.txt"), ("Show disk usage of /tmp", "du -sh /tmp"),
    ("List files in /etc", "ls -la /etc"), ("Find .py files under /srv", "find /srv -name '*.py'")]]


def fresh_model():
    from inversion_tui.hf.models import load_generator

    torch.manual_seed(0)
    return load_generator("smollm2-135m-instruct", "none", "cpu", (8, 16, 0.0))  # no dropout: comparable


def test_training_splits_a_batch_that_does_not_fit_and_gets_the_same_loss():
    model, tokenizer = fresh_model()
    baseline = train_lora(model, tokenizer, PAIRS, lr=1e-3, batch_size=4, epochs=1, seed=0, device="cpu")

    model, tokenizer = fresh_model()
    forward = model.forward

    def forward_that_runs_out_of_memory(*args, **kwargs):
        if kwargs["input_ids"].shape[0] > 1:
            raise MemoryError("injected: batch larger than 1")
        return forward(*args, **kwargs)

    model.forward = forward_that_runs_out_of_memory
    warnings = []
    result = train_lora(model, tokenizer, PAIRS, lr=1e-3, batch_size=4, epochs=1, seed=0, device="cpu",
                        on_warning=warnings.append)
    assert warnings == ["out of memory training on 4 examples at once; retrying with 2",
                        "out of memory training on 2 examples at once; retrying with 1"]
    assert result.steps == baseline.steps == 1
    assert math.isclose(result.mean_loss, baseline.mean_loss, rel_tol=1e-4)  # token-weighted: same loss


def test_a_training_retry_runs_after_the_failed_attempt_is_released():
    import weakref

    model, tokenizer = fresh_model()
    forward = model.forward
    failed: list = []
    alive_at_retry: list[bool] = []

    def forward_that_runs_out_of_memory(*args, **kwargs):
        alive_at_retry.extend(ref() is not None for ref in failed)
        if kwargs["input_ids"].shape[0] > 1:
            activations = torch.empty(kwargs["input_ids"].shape[0], 1024)  # what the failed pass allocated
            failed.append(weakref.ref(activations))
            raise MemoryError("injected")
        return forward(*args, **kwargs)

    model.forward = forward_that_runs_out_of_memory
    train_lora(model, tokenizer, PAIRS, lr=1e-3, batch_size=4, epochs=1, seed=0, device="cpu",
               share_prefix=False)
    assert failed and alive_at_retry and not any(alive_at_retry)
