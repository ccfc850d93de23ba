#!/usr/bin/env bash
# Issue 24, point 7: does the manual ground generation? The base model greedy with `--hints docs`
# (the 3 programs whose NAME lines best match each task, under it in the forward prompt), paired
# task by task with the same model's greedy rows without hints, which no code change since has
# altered (experiments/results/verifier: the packs' 100 tasks of seed 1, the tuning set, and all
# 300 InterCode-ALFA tasks, identical to experiments/results/confirm/base.jsonl).
#
# The rule, fixed before the numbers: hints may become a default only if, on the packs, the
# paired change in right program is positive with its 95% interval (templates resampled) above
# zero; InterCode is reported either way and decides nothing. k = 3 is not tuned.
#
#   bash experiments/doc_hints.sh [OUT_DIR]      (about 15 minutes on 2 cores)
set -euo pipefail
out=${1:-experiments/results/doc_hints}
mkdir -p "$out"
export HF_HUB_OFFLINE=1
cli=${INVERSION_TUI:-.venv/bin/inversion-tui}
plain=experiments/results/verifier
/usr/bin/time -f "wall_s=%e" -o "$out/packs_hints.time" \
    "$cli" eval --pack pentest,shell --limit 100 --seed 1 --batch-size 8 --json --hints docs \
    --save-rows "$out/packs_hints.jsonl" --paired-with "$plain/packs_greedy.jsonl" > "$out/packs_hints.json"
/usr/bin/time -f "wall_s=%e" -o "$out/intercode_hints.time" \
    "$cli" eval --suite intercode --batch-size 8 --json --hints docs \
    --save-rows "$out/intercode_hints.jsonl" --paired-with "$plain/intercode_greedy.jsonl" > "$out/intercode_hints.json"
