"""The DPO objective on the real bundled model: the reference is the base model (the adapter
off), the loss starts at log 2 where policy and reference agree and falls as it trains; and a
run with --objective dpo trains on (accepted, lowest-scoring other) pairs of the same task."""

from __future__ import annotations

import math

import pytest
import torch

from inversion_tui.hf.objectives import DPO, encode_pair, sequence_log_probs
from inversion_tui.hf.train import train_lora
from inversion_tui.loop.backend import PreferencePair, TrainingPair
from inversion_tui.loop.generate import forward_prompt
from inversion_tui.tasks import load_packs
from tests.fakes import FakeBackend
from tests.test_engine import make_engine

TOY = [("Scan port 80 on 192.168.1.1", "nmap -p 80 192.168.1.1", "echo scanning"),
       ("Count the lines of notes.txt", "wc -l notes.txt", "cat notes.txt"),
       ("List the files in /var/log", "ls /var/log", "echo /var/log")]


@pytest.fixture
def restored(real_backend):
    """The shared model's LoRA weights as they were, whatever the test does to them."""
    saved = {n: p.detach().clone() for n, p in real_backend.model.named_parameters() if p.requires_grad}
    yield real_backend
    with torch.no_grad():
        for name, param in real_backend.model.named_parameters():
            if name in saved:
                param.copy_(saved[name])


def toy_pairs(backend) -> list[PreferencePair]:
    examples = load_packs("pentest").examples[:2]
    return [PreferencePair(forward_prompt(backend, task, examples), chosen, rejected) for task, chosen, rejected in TOY]


def test_the_reference_is_the_base_model(restored):
    backend = restored
    rows = [encode_pair(backend.tokenizer, TrainingPair(p.prompt, p.chosen)) for p in toy_pairs(backend)]
    pad = backend.tokenizer.pad_token_id
    with torch.no_grad():
        base = sequence_log_probs(backend.model, rows, pad, backend.device)  # LoRA B = 0: the base model
        for name, param in backend.model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.05, generator=torch.Generator().manual_seed(0))
        moved = sequence_log_probs(backend.model, rows, pad, backend.device)
    reference = DPO().reference_log_probs(backend.model, rows, pad, backend.device)
    assert not torch.allclose(moved, base, atol=1e-3)
    assert torch.allclose(reference, base, atol=1e-4)


@pytest.mark.slow
def test_the_dpo_loss_starts_at_log_2_and_falls(restored):
    backend = restored
    result = train_lora(backend.model, backend.tokenizer, toy_pairs(backend), lr=2e-3, batch_size=3, epochs=8,
                        seed=0, device=backend.device, objective=DPO(beta=0.1))
    # at the first step the policy is the reference (LoRA B = 0): every margin is 0
    assert result.losses[0] == pytest.approx(math.log(2), abs=1e-4)
    assert result.losses[-1] < result.losses[0] - 0.05
    assert not backend.model.training  # left in eval mode


def test_a_dpo_run_trains_on_pairs_of_one_task(tmp_path):
    backend = FakeBackend()
    engine, _ = make_engine(tmp_path, backend, cycles=1, tasks=4, candidates=3, threshold=0.0,
                            select="best-per-task", objective="dpo")
    engine.run()
    pairs = backend.trained[0]
    assert pairs and all(isinstance(p, PreferencePair) for p in pairs)
    before = {(c.task, c.command): c.score for c in engine._before_pass}
    for pair in pairs:
        task = next(t for t, _ in before if pair.prompt.endswith(f"<user>{t}</user><assistant>"))
        assert before[(task, pair.chosen)] > before[(task, pair.rejected)]
