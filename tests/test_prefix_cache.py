"""Generation from a shared-prefix cache gives what plain generate gives, on the real model."""

import random

import pytest

from inversion_tui.loop.generate import forward_prompt
from inversion_tui.loop.invert import inverse_prompt
from inversion_tui.hf.prefix_cache import MIN_SHARED_PREFIX, prefix_layout, shared_prefix_length
from inversion_tui.tasks import load_packs


def test_shared_prefix_leaves_every_row_a_token_of_its_own():
    assert shared_prefix_length([[1, 2, 3, 4], [1, 2, 3, 5, 6]]) == 3
    assert shared_prefix_length([[1, 2, 3], [1, 2, 3, 4]]) == 2  # the shorter row keeps its last token
    assert shared_prefix_length([[7, 8], [9]]) == 0
    assert shared_prefix_length([[1, 2, 3]]) == 2


def test_layout_puts_the_padding_between_prefix_and_suffix():
    ids, mask = prefix_layout([[1, 2, 3], [1, 2, 4, 5, 6]], 2, 0)
    assert ids == [[1, 2, 0, 0, 3], [1, 2, 4, 5, 6]]
    assert mask == [[1, 1, 0, 0, 1], [1, 1, 1, 1, 1]]


@pytest.fixture
def prompts(real_backend):
    pack = load_packs("pentest,shell")
    tasks = [i.task for i in pack.sample(6, random.Random(3))]
    return [forward_prompt(real_backend, t, pack.examples[:2]) for t in tasks], pack.examples[:2]


def complete(backend, prompts, share, **kw):
    backend.share_prefix = share
    try:
        return backend.complete(prompts, **kw)
    finally:
        backend.share_prefix = True


def test_greedy_outputs_are_the_same_with_and_without_the_shared_prefix(real_backend, prompts):
    forward, examples = prompts
    rows = [real_backend.tokenizer(p, add_special_tokens=False)["input_ids"] for p in forward]
    assert shared_prefix_length(rows) >= MIN_SHARED_PREFIX  # the cached path is the one taken
    kw = dict(num_return_sequences=1, temperature=0.0, max_new_tokens=24)
    plain, shared = complete(real_backend, forward, False, **kw), complete(real_backend, forward, True, **kw)
    assert shared == plain
    inverse = [inverse_prompt(real_backend, c[0], examples) for c in plain]
    assert complete(real_backend, inverse, True, **kw) == complete(real_backend, inverse, False, **kw)


def test_sampled_sequences_match_too_under_the_same_seed(real_backend, prompts):
    forward, _ = prompts
    kw = dict(num_return_sequences=3, temperature=0.7, max_new_tokens=16)
    real_backend.reseed(11)
    plain = complete(real_backend, forward, False, **kw)
    real_backend.reseed(11)
    shared = complete(real_backend, forward, True, **kw)
    assert [len(p) for p in shared] == [3] * len(forward)
    assert shared == plain


def test_training_with_the_shared_prefix_gives_the_plain_loss_and_gradients(real_backend, prompts):
    """Dropout off (eval mode) so both computations see the same network; the repeated prefix
    cache must carry the gradient back into the prefix's computation."""
    import torch

    from inversion_tui.loop.backend import TrainingPair
    from inversion_tui.hf.objectives import collate, encode_pair, shared_prefix_loss

    forward, _ = prompts
    model, tokenizer = real_backend.model, real_backend.tokenizer
    batch = [encode_pair(tokenizer, TrainingPair(p, c)) for p, c in zip(forward[:4], ["nmap -sV 10.0.0.5", "ls -la",
                                                                                   "du -sh /var", "grep -r x ."])]
    params = [p for p in model.parameters() if p.requires_grad]
    model.eval()
    grads = {}
    for name in ("plain", "shared"):
        model.zero_grad(set_to_none=True)
        if name == "plain":
            inputs = {k: v.to(real_backend.device) for k, v in collate(batch, tokenizer.pad_token_id).items()}
            loss = model(**inputs).loss
        else:
            loss = shared_prefix_loss(model, batch, tokenizer.pad_token_id, real_backend.device)
            assert loss is not None  # the shared path is the one taken
        loss.backward()
        grads[name] = (loss.item(), [p.grad.clone() for p in params])
    model.zero_grad(set_to_none=True)
    assert grads["shared"][0] == pytest.approx(grads["plain"][0], rel=1e-5)
    for shared, plain in zip(grads["shared"][1], grads["plain"][1]):
        assert torch.allclose(shared, plain, rtol=1e-4, atol=1e-6)
    assert any(g.abs().sum() > 0 for g in grads["shared"][1])
