"""The 4-bit (NF4) path on a CPU: trained correctly, not only loaded."""

import pytest
import torch

from inversion_tui.loop.backend import TrainingPair
from inversion_tui.loop.train import collate, encode_pair

PROMPT = "<|im_start|>user\n{}<|im_end|>\n<|im_start|>assistant\n"
PAIRS = [TrainingPair(PROMPT.format("Count the lines in a.txt"), "wc -l a.txt"),
         TrainingPair(PROMPT.format("List files in /etc"), "ls -la /etc")]


def lora_gradients(model, tokenizer) -> dict[str, torch.Tensor]:
    batch = collate([encode_pair(tokenizer, pair) for pair in PAIRS], tokenizer.pad_token_id)
    model.train()
    model.zero_grad(set_to_none=True)
    model(**batch).loss.backward()
    grads = {name: p.grad.detach().clone() for name, p in model.named_parameters() if p.requires_grad}
    model.zero_grad(set_to_none=True)
    model.eval()
    return grads


@pytest.mark.slow
def test_lora_gradients_after_a_generate_call_equal_those_before_it():
    """bitsandbytes repacks 4-bit weights for CPU inference on the first no-grad call (on CPUs
    with AVX512-BF16); the backward pass then went through a kernel without autograd and LoRA
    gradients came out wrong (norms off up to 7x) without a word."""
    from inversion_tui.models import load_generator

    torch.manual_seed(0)
    model, tokenizer = load_generator("smollm2-135m-instruct", "4bit", "cpu", (8, 16, 0.0))
    before = lora_gradients(model, tokenizer)
    assert before and any(g.abs().sum() > 0 for g in before.values())  # LoRA B starts at 0: A's grads are 0
    with torch.inference_mode():
        encoded = tokenizer([PAIRS[0].prompt], return_tensors="pt", add_special_tokens=False)
        model.generate(**encoded, max_new_tokens=4, do_sample=False, pad_token_id=tokenizer.pad_token_id)
    after = lora_gradients(model, tokenizer)
    assert before.keys() == after.keys()
    for name in before:
        torch.testing.assert_close(after[name], before[name], rtol=1e-4, atol=1e-6, msg=name)
