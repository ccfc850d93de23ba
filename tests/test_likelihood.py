"""The Generator's log-likelihood of given continuations, on the real bundled model: exactly the
continuation's tokens are scored, each from the positions before it, batched or not, with the
shared-prefix cache or without; and the base weights answer with the adapter off."""

from __future__ import annotations

import random

import pytest
import torch

from inversion_tui.loop.generate import forward_prompt
from inversion_tui.loop.invert import inverse_prompt
from inversion_tui.tasks import load_packs

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def one_by_one(backend, prompt: str, continuation: str) -> tuple[list[int], list[float]]:
    """The reference: one unbatched, unpadded forward pass over prompt + continuation; the token
    at position t is predicted by the logits at t - 1."""
    tokenizer = backend.tokenizer
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    continuation_ids = tokenizer(continuation, add_special_tokens=False)["input_ids"]
    ids = torch.tensor([prompt_ids + continuation_ids])
    with torch.inference_mode():
        log_probs = torch.log_softmax(backend.model(input_ids=ids).logits[0].float(), dim=-1)
    positions = list(range(len(prompt_ids), len(prompt_ids) + len(continuation_ids)))
    return positions, [log_probs[p - 1, ids[0, p]].item() for p in positions]


@pytest.fixture
def pairs(real_backend):
    pack = load_packs("pentest,shell")
    items = pack.sample(5, random.Random(7))
    examples = pack.examples[:2]
    # Reviewer-shaped (task given the command) and coder-shaped (command given the task) pairs,
    # of different lengths, so rows are padded and the prefix cache is taken for the batch.
    reviewer = [(inverse_prompt(real_backend, item.references[0], examples), item.task) for item in items]
    coder = [(forward_prompt(real_backend, item.task, examples), item.references[0]) for item in items]
    return reviewer + coder


@pytest.mark.parametrize("share_prefix", [True, False])
def test_log_likelihood_scores_exactly_the_continuation_tokens(real_backend, pairs, share_prefix):
    real_backend.share_prefix = share_prefix
    try:
        batched = real_backend.log_likelihood([p for p, _ in pairs], [c for _, c in pairs])
    finally:
        real_backend.share_prefix = True
    for (prompt, continuation), values in zip(pairs, batched):
        positions, expected = one_by_one(real_backend, prompt, continuation)
        prompt_length = len(real_backend.tokenizer(prompt, add_special_tokens=False)["input_ids"])
        # one value per continuation token, the first predicted from the prompt's last token
        assert len(values) == len(positions) and positions[0] == prompt_length
        assert values == pytest.approx(expected, abs=2e-4)


def test_an_empty_continuation_has_no_tokens(real_backend, pairs):
    prompt = pairs[0][0]
    assert real_backend.log_likelihood([prompt, prompt], ["", "ls"])[0] == []


def test_base_weights_answer_with_the_adapter_off(real_backend, pairs):
    from peft.tuners.lora import LoraLayer

    prompts, continuations = [p for p, _ in pairs[:3]], [c for _, c in pairs[:3]]

    def log_likelihood():
        return [value for row in real_backend.log_likelihood(prompts, continuations) for value in row]

    before = log_likelihood()
    lora_b = [m.lora_B["default"].weight for m in real_backend.model.modules() if isinstance(m, LoraLayer)]
    saved = [w.detach().clone() for w in lora_b]
    try:
        with torch.no_grad():
            for w in lora_b:  # a trained adapter: B is no longer zero
                w.normal_(0, 0.05, generator=torch.Generator().manual_seed(0))
        changed = log_likelihood()
        with real_backend.base_weights():
            base = log_likelihood()
        after = log_likelihood()
    finally:
        with torch.no_grad():
            for w, s in zip(lora_b, saved):
                w.copy_(s)
    assert changed != pytest.approx(before, abs=1e-3)
    assert base == pytest.approx(before, abs=1e-5)
    assert after == changed  # the adapter is back on when the context ends


def test_reset_adapter_makes_the_model_the_base_model_again(real_backend, pairs):
    """--train-from base: after reset_adapter the model answers as the base does; the adapter's
    weights are those it was created with, whatever steps ran before."""
    prompts, continuations = [p for p, _ in pairs[:2]], [c for _, c in pairs[:2]]
    saved = {n: p.detach().clone() for n, p in real_backend.model.named_parameters() if p.requires_grad}
    try:
        with torch.no_grad():
            for name, param in real_backend.model.named_parameters():
                if name in saved:
                    param.normal_(0, 0.05, generator=torch.Generator().manual_seed(1))
        real_backend.reset_adapter()
        after = real_backend.log_likelihood(prompts, continuations)
        with real_backend.base_weights():
            base = real_backend.log_likelihood(prompts, continuations)
    finally:
        with torch.no_grad():
            for name, param in real_backend.model.named_parameters():
                if name in saved:
                    param.copy_(saved[name])
    assert [v for row in after for v in row] == pytest.approx([v for row in base for v in row], abs=1e-5)
