"""Generation from a shared-prefix cache gives what plain generate gives, on the real model."""

import random

import pytest

from inversion_tui.loop.generate import forward_prompt
from inversion_tui.loop.invert import inverse_prompt
from inversion_tui.prefix_cache import MIN_SHARED_PREFIX, prefix_layout, shared_prefix_length
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
