#!/usr/bin/env bash
# The GPU check (issue 15), in one command on a machine with an NVIDIA GPU:
#   1. the device: nvidia-smi and what torch sees        -> benchmarks/results/gpu_device.json
#   2. the loop on a tiny model of Mistral's shape, NF4  -> benchmarks/results/loop_speed_gpu_tiny.json
#   3. the 7B-shaped NF4 benchmark under a 24 GB cap     -> benchmarks/results/loop_speed_gpu_mistral7b_nf4.json
#      (per-cycle ratio against the seed's pattern, decode step time against the bandwidth floor,
#      peak reserved memory; targets in docs/PERFORMANCE.md)
#   4. the test suite on CUDA                            -> benchmarks/results/gpu_tests.json (+ .txt log)
# The benchmarks come first: they are the figures of record, and a lease may end mid-suite.
#
#   PYTHON=python3 TOKENIZER_DIR=/path/to/tokenizer bash benchmarks/gpu_check.sh [--skip-tests]
#
# PYTHON: an interpreter with the project's dependencies (default .venv/bin/python, else python3).
# TOKENIZER_DIR: tokenizer files for the random models (default: the bundled SmolLM2's, which
# needs the bundled model package).
# STANDIN_DIR: a folder made by `benchmarks/standin_models.py pack`, for a machine that cannot
# receive the bundled models (the device tool's 64 MiB): random-weight stand-ins are built from
# it and used instead, and the tests that fail with them must be re-run on a CPU with the same
# stand-ins to tell a GPU defect from a test of what the real model says.
# BENCH_TASKS, BENCH_GEN_BATCH (default 50, 8): the 7B workload, tasks x 3 candidates.
# PYTEST_ARGS: extra pytest arguments (e.g. "-n 8" where pytest-xdist is installed).
# TEST_TIMEOUT: seconds the suite may take (default 3000).
# Each step runs even if an earlier one failed; the exit code says whether all passed.
# Nothing is downloaded: HF_HUB_OFFLINE=1.
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

if [ -n "${STANDIN_DIR:-}" ]; then
    echo "== 0. random-weight stand-ins for the bundled models (from $STANDIN_DIR)"
    "$PYTHON" benchmarks/standin_models.py build "$STANDIN_DIR" || failed=1
    export INVERSION_TUI_CACHE_DIR="$STANDIN_DIR/cache" PYTHONPATH="$STANDIN_DIR/site:${PYTHONPATH:-}"
    [ -n "${TOKENIZER_DIR:-}" ] || TOKENIZER_ARG=(--tokenizer "$STANDIN_DIR/cache/models/SmolLM2-135M-Instruct")
fi

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

echo "== 2. tiny Mistral-shaped model, NF4, the whole loop"
"$PYTHON" benchmarks/make_random_model.py --shape tiny --out "$WORK/tiny" "${TOKENIZER_ARG[@]}" || failed=1
"$PYTHON" benchmarks/loop_speed.py --model "$WORK/tiny" --quant 4bit --tasks 8 --candidates 2 --no-ablation \
    --out "$RESULTS/loop_speed_gpu_tiny.json" || failed=1

echo "== 3. 7B Mistral-shaped model, NF4, under a 24 GB cap"
"$PYTHON" benchmarks/make_random_model.py --out "$WORK/mistral-shaped" "${TOKENIZER_ARG[@]}" || failed=1
"$PYTHON" benchmarks/loop_speed.py --model "$WORK/mistral-shaped" --quant 4bit --tasks "${BENCH_TASKS:-50}" --candidates 3 --gen-batch-size "${BENCH_GEN_BATCH:-8}" \
    --memory-cap-gb 24 --out "$RESULTS/loop_speed_gpu_mistral7b_nf4.json" || failed=1

if [ "${1:-}" != "--skip-tests" ]; then
    echo "== 4. test suite on CUDA"
    # -v: each test's name and outcome as it ends, so a suite cut short still says which failed
    timeout "${TEST_TIMEOUT:-3000}" "$PYTHON" -m pytest -v -rfE -p no:cacheprovider ${PYTEST_ARGS:-} --junitxml="$WORK/junit.xml" 2>&1 | tee "$RESULTS/gpu_tests.txt"
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


echo "gpu_check: $([ $failed -eq 0 ] && echo 'all steps passed' || echo 'some step failed (see above)')"
exit $failed
