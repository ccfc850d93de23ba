"""Loss masking, dynamic padding, and a real LoRA step on the bundled model."""

import math

import pytest
import torch

from inversion_tui.loop.backend import TrainingPair
from inversion_tui.hf.objectives import IGNORE_INDEX, collate, encode_pair
from inversion_tui.hf.train import train_lora

PROMPT = "<|im_start|>user\nCount the lines in a.txt<|im_end|>\n<|im_start|>assistant\n"


def test_labels_mask_the_prompt_and_keep_command_plus_eos(tokenizer):
    encoded = encode_pair(tokenizer, TrainingPair(PROMPT, "wc -l a.txt"))
    prompt_ids = tokenizer(PROMPT, add_special_tokens=False)["input_ids"]
    command_ids = tokenizer("wc -l a.txt", add_special_tokens=False)["input_ids"]
    assert encoded.input_ids == prompt_ids + command_ids + [tokenizer.eos_token_id]
    assert encoded.labels == [IGNORE_INDEX] * len(prompt_ids) + command_ids + [tokenizer.eos_token_id]
    # what is learned decodes to exactly the command (and the end-of-turn token)
    learned = [t for t in encoded.labels if t != IGNORE_INDEX]
    assert tokenizer.decode(learned) == "wc -l a.txt" + tokenizer.eos_token


def test_over_long_examples_drop_prompt_not_command(tokenizer):
    encoded = encode_pair(tokenizer, TrainingPair(PROMPT * 50, "wc -l a.txt"), max_length=32)
    assert len(encoded.input_ids) == 32
    learned = [t for t in encoded.labels if t != IGNORE_INDEX]
    assert tokenizer.decode(learned) == "wc -l a.txt" + tokenizer.eos_token


def test_collate_pads_to_the_batch_longest_and_masks_padding(tokenizer):
    short = encode_pair(tokenizer, TrainingPair(PROMPT, "ls"))
    long = encode_pair(tokenizer, TrainingPair(PROMPT, "find /var/log -name '*.log' -mtime -7"))
    batch = collate([short, long], pad_token_id=tokenizer.pad_token_id)
    width = len(long.input_ids)
    assert batch["input_ids"].shape == (2, width)  # dynamic: not 512
    pad = width - len(short.input_ids)
    assert batch["labels"][0, -pad:].tolist() == [IGNORE_INDEX] * pad
    assert batch["attention_mask"][0].tolist() == [1] * len(short.input_ids) + [0] * pad
    assert batch["labels"][1].tolist() == long.labels
    # the only supervised positions are command tokens + EOS
    supervised = (batch["labels"] != IGNORE_INDEX).sum().item()
    assert supervised == sum(t != IGNORE_INDEX for t in short.labels + long.labels)


@pytest.mark.parametrize("quant", ["none", "4bit"])
def test_real_lora_step_changes_only_lora_weights_and_returns_eval_mode(quant):
    from inversion_tui.hf.models import load_generator

    model, tok = load_generator("smollm2-135m-instruct", quant, "cpu", (16, 32, 0.05))
    lora_before = {n: p.detach().clone() for n, p in model.named_parameters() if "lora_" in n}
    frozen_name, frozen = next((n, p) for n, p in model.named_parameters() if "lora_" not in n and p.dtype.is_floating_point)
    frozen_before = frozen.detach().clone()
    assert lora_before and not model.training
    is_4bit = any(type(m).__name__ == "Linear4bit" for m in model.modules())
    assert is_4bit == (quant == "4bit")
    pairs = [
        TrainingPair(PROMPT, "wc -l a.txt"),
        TrainingPair(PROMPT.replace("Count the lines in a.txt", "Show disk usage of /tmp"), "du -sh /tmp"),
    ]
    steps = []
    result = train_lora(model, tok, pairs, lr=1e-3, batch_size=1, epochs=2, seed=0, device="cpu",
                        on_step=lambda *a: steps.append(a))
    assert result.steps == 4 and len(steps) == 4 and steps[-1][:2] == (4, 4)
    assert all(math.isfinite(loss) for loss in result.losses)
    assert not model.training  # LoRA dropout off before scoring resumes
    changed = [n for n, p in model.named_parameters() if "lora_B" in n and not torch.equal(p, lora_before[n])]
    assert changed, "training did not change any LoRA weight"
    assert torch.equal(dict(model.named_parameters())[frozen_name], frozen_before)
