#!/usr/bin/env bash
# The GPU check (issue 15), in one command on a machine with an NVIDIA GPU:
#   1. the device: nvidia-smi and what torch sees        -> benchmarks/results/gpu_device.json
#   2. the test suite on CUDA                            -> benchmarks/results/gpu_tests.json (+ .txt log)
#   3. the loop on a tiny model of Mistral's shape, NF4  -> benchmarks/results/loop_speed_gpu_tiny.json
#   4. the 7B-shaped NF4 benchmark under a 24 GB cap     -> benchmarks/results/loop_speed_gpu_mistral7b_nf4.json
#      (per-cycle ratio against the seed's pattern, decode step time against the bandwidth floor,
#      peak reserved memory; targets in docs/PERFORMANCE.md)
#
#   PYTHON=python3 TOKENIZER_DIR=/path/to/tokenizer bash benchmarks/gpu_check.sh [--skip-tests]
#
# PYTHON: an interpreter with the project's dependencies (default .venv/bin/python, else python3).
# TOKENIZER_DIR: tokenizer files for the random models (default: the bundled SmolLM2's, which
# needs the bundled model package). Each step runs even if an earlier one failed; the exit code
# says whether all passed. Nothing is downloaded: HF_HUB_OFFLINE=1.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
RESULTS=benchmarks/results
WORK=${WORK:-/tmp/inversion-gpu-check}
export HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
mkdir -p "$RESULTS" "$WORK"
TOKENIZER_ARG=()
[ -n "${TOKENIZER_DIR:-}" ] && TOKENIZER_ARG=(--tokenizer "$TOKENIZER_DIR")
failed=0

echo "== 1. device"
nvidia-smi || failed=1
"$PYTHON" - "$RESULTS/gpu_device.json" <<'PY'
import json, platform, sys, time
import torch
if not torch.cuda.is_available():
    sys.exit("gpu_check: torch sees no CUDA device")
p = torch.cuda.get_device_properties(0)
info = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "gpu": p.name, "memory_gib": round(p.total_memory / 2**30, 1),
        "capability": f"{p.major}.{p.minor}", "bf16": torch.cuda.is_bf16_supported(), "torch": torch.__version__,
        "cuda": torch.version.cuda, "python": platform.python_version()}
for name in ("transformers", "peft", "bitsandbytes", "sentence_transformers", "textual"):
    try:
        info[name] = __import__(name).__version__
    except Exception as error:  # reported, not fatal: the steps that need it fail on their own
        info[name] = f"missing ({type(error).__name__})"
json.dump(info, open(sys.argv[1], "w"), indent=2)
print(json.dumps(info, indent=2))
PY
if [ $? -ne 0 ]; then
    echo "gpu_check: no CUDA device; nothing else to check here" >&2
    exit 2
fi

if [ "${1:-}" != "--skip-tests" ]; then
    echo "== 2. test suite on CUDA"
    "$PYTHON" -m pytest -q -p no:cacheprovider --junitxml="$WORK/junit.xml" 2>&1 | tee "$RESULTS/gpu_tests.txt"
    [ "${PIPESTATUS[0]}" -eq 0 ] || failed=1
    "$PYTHON" - "$WORK/junit.xml" "$RESULTS/gpu_tests.json" <<'PY' || failed=1
import json, sys, xml.etree.ElementTree as ET
suite = ET.parse(sys.argv[1]).getroot()
suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
counts = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
skipped = [{"test": f"{c.get('classname')}.{c.get('name')}", "reason": c.find("skipped").get("message", "")}
           for c in suite.iter("testcase") if c.find("skipped") is not None]
failing = [f"{c.get('classname')}.{c.get('name')}" for c in suite.iter("testcase")
           if c.find("failure") is not None or c.find("error") is not None]
json.dump({**counts, "skipped_tests": skipped, "failing_tests": failing}, open(sys.argv[2], "w"), indent=2)
print(counts)
PY
fi

echo "== 3. tiny Mistral-shaped model, NF4, the whole loop"
"$PYTHON" benchmarks/make_random_model.py --shape tiny --out "$WORK/tiny" "${TOKENIZER_ARG[@]}" || failed=1
"$PYTHON" benchmarks/loop_speed.py --model "$WORK/tiny" --quant 4bit --tasks 8 --candidates 2 --no-ablation \
    --out "$RESULTS/loop_speed_gpu_tiny.json" || failed=1

echo "== 4. 7B Mistral-shaped model, NF4, under a 24 GB cap"
"$PYTHON" benchmarks/make_random_model.py --out "$WORK/mistral-shaped" "${TOKENIZER_ARG[@]}" || failed=1
"$PYTHON" benchmarks/loop_speed.py --model "$WORK/mistral-shaped" --quant 4bit --tasks 50 --candidates 3 \
    --memory-cap-gb 24 --out "$RESULTS/loop_speed_gpu_mistral7b_nf4.json" || failed=1

echo "gpu_check: $([ $failed -eq 0 ] && echo 'all steps passed' || echo 'some step failed (see above)')"
exit $failed
