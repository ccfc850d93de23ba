#!/usr/bin/env bash
# Issue 14's confirmation: the screen's best cells (experiments/training_matrix.sh) on all 300
# InterCode-ALFA tasks, greedy, each cell's last adapter paired with the base model task by task.
# The screen saw the first 100 tasks; experiments/confirm_report.py reports all 300 and the 200
# it did not see.
#
#   bash experiments/confirm.sh OUT_DIR MATRIX_DIR/CELL [MATRIX_DIR/CELL ...]
#   ADAPTER=best bash experiments/confirm.sh ...   (the adapter the run's label-free --patience-on
#                                                   signal keeps instead, as `eval --adapter RUN`
#                                                   picks it: stopping.best_of_run; rows CELL-best)
#   python experiments/confirm_report.py OUT_DIR
set -euo pipefail
out=${1:?usage: confirm.sh OUT_DIR CELL_DIR [CELL_DIR ...]}
shift
mkdir -p "$out"
export HF_HUB_OFFLINE=1
cli=(${INVERSION_TUI:-.venv/bin/inversion-tui})
# The run's prompts: the few-shot examples of the screen's --pack.
common=(eval --suite intercode --prompt-pack pentest,shell --batch-size 8 --json)
if [[ ! -s "$out/base.jsonl" ]]; then
    "${cli[@]}" "${common[@]}" --save-rows "$out/base.jsonl" > "$out/base.json"
fi
for run in "$@"; do
    cell=$(basename "$run")
    if [[ ${ADAPTER:-last} == best ]]; then
        # the run-directory name of its adapter; empty when the base model is the best
        best=$("${PYTHON:-.venv/bin/python}" -c 'import sys
from inversion_tui.loop.stopping import best_of_run
print(best_of_run(sys.argv[1])[0] or "")' "$run")
        if [[ -z $best ]]; then
            echo "$cell: its best is the base model; nothing to confirm" | tee "$out/$cell-best.adapter"
            continue
        fi
        cell=$cell-best
        adapter=$run/$best
    else
        adapter=$(ls -d "$run"/checkpoint_cycle_* | sort -V | tail -1)
    fi
    echo "$cell: $adapter" | tee "$out/$cell.adapter"
    "${cli[@]}" "${common[@]}" --adapter "$adapter" --paired-with "$out/base.jsonl" \
        --save-rows "$out/$cell.jsonl" > "$out/$cell.json"
done
