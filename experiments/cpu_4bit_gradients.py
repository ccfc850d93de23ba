"""How wrong LoRA gradients on the 4-bit CPU path were after one generate call, and are now.

    HF_HUB_OFFLINE=1 .venv/bin/python -m experiments.cpu_4bit_gradients without-fix
    HF_HUB_OFFLINE=1 .venv/bin/python -m experiments.cpu_4bit_gradients with-fix

(As a module from the repository root: it borrows the gradient probe of tests/test_quantized.py.)

bitsandbytes repacks 4-bit weights for its CPU inference kernel on the first no-grad call
(on CPUs with AVX512-BF16); hf/models.keep_4bit_weights_trainable_on_cpu turns that off.
Prints how many LoRA gradient tensors differ before and after a generate call, and the range
of their norm ratios. tests/test_quantized.py checks the fixed path.
"""

from __future__ import annotations

import sys

import torch

import inversion_tui.hf.models as models
from tests.test_quantized import lora_gradients


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else "with-fix"
    if mode not in ("with-fix", "without-fix"):
        sys.exit("usage: cpu_4bit_gradients.py [with-fix|without-fix]")
    if mode == "without-fix":
        models.keep_4bit_weights_trainable_on_cpu = lambda model: None
    torch.manual_seed(0)
    model, tokenizer = models.load_generator("smollm2-135m-instruct", "4bit", "cpu", (8, 16, 0.0))
    before = lora_gradients(model, tokenizer)
    with torch.inference_mode():
        encoded = tokenizer(["<|im_start|>user\nList files<|im_end|>\n<|im_start|>assistant\n"], return_tensors="pt",
                            add_special_tokens=False)
        model.generate(**encoded, max_new_tokens=4, do_sample=False, pad_token_id=tokenizer.pad_token_id)
    after = lora_gradients(model, tokenizer)
    ratios = [after[k].norm().item() / before[k].norm().item() for k in before if before[k].norm() > 0]
    changed = sum(not torch.allclose(after[k], before[k], rtol=1e-4, atol=1e-6) for k in before)
    print(f"{mode}: {changed}/{len(before)} LoRA gradient tensors changed after a generate call; "
          f"norm ratio after/before {min(ratios):.3f} to {max(ratios):.3f}")


if __name__ == "__main__":
    main()
