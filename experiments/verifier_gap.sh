#!/usr/bin/env bash
# The verification gap of the bundled model, on CPU: N = 8 samples per task at temperature 0.7
# (run's default), the base model, the project's prompts and default weights, every component
# stored per sample. The packs' tasks are the set weights are chosen on; InterCode-ALFA (all
# 300) is the set they are reported on (experiments/verifier_weights.py reads both).
#   bash experiments/verifier_gap.sh [OUT_DIR]     (about an hour on 2 cores)
set -euo pipefail
out=${1:-experiments/results/verifier}
mkdir -p "$out"
export HF_HUB_OFFLINE=1
cli=${INVERSION_TUI:-.venv/bin/inversion-tui}
"$cli" eval --pack pentest,shell --limit 100 --seed 1 --samples 8 --batch-size 8 --json \
    --save-rows "$out/packs_greedy.jsonl" --save-samples "$out/packs_samples.jsonl" > "$out/packs_gap.json"
"$cli" eval --suite intercode --samples 8 --batch-size 8 --json \
    --save-rows "$out/intercode_greedy.jsonl" --save-samples "$out/intercode_samples.jsonl" > "$out/intercode_gap.json"
