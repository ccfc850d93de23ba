"""The 4-bit (NF4) path on a CPU: trained correctly, not only loaded."""

import pytest
import torch

from inversion_tui.loop.backend import TrainingPair
from inversion_tui.hf.objectives import collate, encode_pair

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
    from inversion_tui.hf.models import load_generator

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


# ---------------------------------------------------------------- what `auto` becomes


def mistral_7b_config():
    from transformers import MistralConfig

    return MistralConfig(vocab_size=32000, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                         num_attention_heads=32, num_key_value_heads=8)


def test_parameters_are_estimated_from_the_config_alone():
    from inversion_tui.hf.models import estimated_parameters

    assert estimated_parameters(mistral_7b_config()) == pytest.approx(7.24e9, rel=0.01)  # published: 7.24 B


def test_4bit_only_where_it_pays():
    from inversion_tui.hf.models import quant_pays

    gib = 2**30
    assert quant_pays(7_240_000_000, 2, 24 * gib)  # 7B on a 24 GB card: 14.5 GB of weights dense
    assert not quant_pays(7_240_000_000, 2, 80 * gib)  # on an 80 GB card: dense is faster
    assert not quant_pays(135_000_000, 2, 24 * gib)  # SmolLM2: never


def test_checkpointing_only_where_activations_would_not_fit():
    from inversion_tui.hf.models import NF4_BYTES_PER_PARAMETER, checkpointing_needed

    gib, config = 2**30, mistral_7b_config()
    nf4_weights = 7.24e9 * NF4_BYTES_PER_PARAMETER
    assert not checkpointing_needed(config, 4, nf4_weights, 24 * gib)  # ~10 GiB of activations fit
    assert checkpointing_needed(config, 4, 7.24e9 * 2, 24 * gib)  # beside dense bf16 weights they do not
    assert checkpointing_needed(config, 16, nf4_weights, 24 * gib)


def test_auto_dtype_is_bf16_where_the_gpu_has_it_and_fp16_where_not(monkeypatch):
    from inversion_tui.hf.models import resolve_dtype

    assert resolve_dtype("auto", "cpu") == "float32"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert resolve_dtype("auto", "cuda") == "bfloat16"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)  # Turing and older
    assert resolve_dtype("auto", "cuda") == "float16"
    assert resolve_dtype("float32", "cuda") == "float32"


def test_the_shared_prefix_cache_is_used_on_a_cpu_and_not_on_a_gpu(tmp_path):
    """Measured: it speeds a cycle up 1.30x on 2 CPU cores and slows one down 2.4x on an H200
    (docs/PERFORMANCE.md). Nothing here touches CUDA: no choice is left to `auto`."""
    from inversion_tui.hf.models import resolve_choices
    from inversion_tui.settings import build_settings

    settings = build_settings(output=tmp_path, quant="none", gradient_checkpointing="off", dtype="float32")
    assert resolve_choices(settings, "cpu")["prefix_cache"] is True
    assert resolve_choices(settings, "cuda")["prefix_cache"] is False


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks what auto becomes on a machine without a GPU")
def test_on_a_cpu_auto_is_dense_fp32_without_checkpointing_and_it_is_recorded(tmp_path):
    from inversion_tui.hf.backend import HFBackend
    from inversion_tui.settings import build_settings

    backend = HFBackend.load(build_settings(output=tmp_path))
    assert backend.description == {"model": "smollm2-135m-instruct", "quant": "none", "device": "cpu",
                                   "dtype": "float32", "gradient_checkpointing": "off", "prefix_cache": "on"}
    assert backend.share_prefix


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory, tokenizer):
    """A two-layer model of Mistral's family, random weights, made as the GPU benchmark makes
    its 7B one."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "benchmarks" / "make_random_model.py"
    spec = importlib.util.spec_from_file_location("make_random_model", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.build_model("tiny", tokenizer)
    assert {p.dtype for p in model.parameters()} == {torch.bfloat16}  # built in bf16, never in fp32
    assert torch.get_default_dtype() == torch.float32  # and the default is given back
    directory = tmp_path_factory.mktemp("tiny")
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


@pytest.mark.parametrize("checkpointing", [False, True])
def test_4bit_keeps_the_residual_stream_in_the_compute_dtype_and_trains(tiny_model_dir, checkpointing):
    from inversion_tui.hf.objectives import _checkpointing
    from inversion_tui.hf.train import train_lora
    from inversion_tui.hf.models import load_generator

    model, tokenizer = load_generator(str(tiny_model_dir), "4bit", "cpu", (4, 8, 0.0), dtype="bfloat16",
                                      checkpointing=checkpointing)
    dense = {name: p.dtype for name, p in model.named_parameters()
             if not p.requires_grad and p.dtype.is_floating_point}
    norms = [dtype for name, dtype in dense.items() if "norm" in name]
    assert norms and set(norms) == {torch.bfloat16}  # not upcast to float32
    assert _checkpointing(model) == checkpointing  # a choice, not forced by 4-bit
    result = train_lora(model, tokenizer, PAIRS, lr=1e-3, batch_size=2, epochs=1, seed=0, device="cpu")
    assert result.steps == 1 and torch.isfinite(torch.tensor(result.mean_loss))
    lora_b = [p for name, p in model.named_parameters() if "lora_B" in name]
    assert lora_b and any(p.abs().sum() > 0 for p in lora_b)  # B starts at zero: the step trained it
