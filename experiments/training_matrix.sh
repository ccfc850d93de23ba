#!/usr/bin/env bash
# Issue 14's screen of training recipes on the bundled model, on CPU: one run per cell, one
# option changed at a time, every cell evaluated greedy after each cycle on the first 100
# InterCode-ALFA tasks and on the packs' held-out templates, paired against the base model.
#
#   bash experiments/training_matrix.sh OUT_DIR CELL [CELL ...]
#   python experiments/matrix_report.py OUT_DIR/*      (the table in docs/RESULTS.md)
#
# Cells run one after another, never side by side: two on 2 cores slow each other several
# times over. Each leaves OUT_DIR/CELL (the run directory), OUT_DIR/CELL.log (the headless
# console) and OUT_DIR/CELL.time (wall time, peak RSS). A cell's name says its options:
#   SELECT-TRAINFROM-POOL[-EXTRA], e.g. best-base-cheat, thr-last-packs, best-base-packs-f30-dpo
#   (f30: --threshold 0.30, which under a per-task rule is its floor; replay: --replay 0.5 on the
#   run's own tasks; rcheat: --replay 1.0 --replay-from cheat; t32: --tasks 32 a pass; s1: --seed 1;
#   n8: --candidates 8;
#   the pool core: --tasks-from cheat-basics, the cheat pool's basic programs).
set -euo pipefail
out=${1:?usage: training_matrix.sh OUT_DIR CELL [CELL ...]}
shift
mkdir -p "$out"
export HF_HUB_OFFLINE=1
cli=(${INVERSION_TUI:-.venv/bin/inversion-tui})
common=(run --headless --cycles "${CYCLES:-3}" --tasks 16 --candidates 4 --pack pentest,shell
        --holdout 0.25 --eval-suite intercode,holdout --eval-limit 100 --seed 0)

flags_of() {  # the options a cell's name stands for
    local -a parts
    IFS=- read -r -a parts <<< "$1"
    case ${parts[0]} in
        thr) echo --select threshold ;;
        best) echo --select best-per-task ;;
        top2) echo --select top-k --select-k 2 ;;
        *) echo "unknown selection in cell $1" >&2; return 1 ;;
    esac
    case ${parts[1]} in
        last|base) echo --train-from "${parts[1]}" ;;
        *) echo "unknown --train-from in cell $1" >&2; return 1 ;;
    esac
    case ${parts[2]} in
        packs) ;;
        cheat) echo --tasks-from cheat ;;
        # The first core cells read the same 137 tasks from a file experiments/core_pool.py wrote
        # (/tmp/cheat_core.jsonl; same ids, same split, same runs): it became the named pool.
        core) echo --tasks-from cheat-basics ;;
        *) echo "unknown pool in cell $1" >&2; return 1 ;;
    esac
    for extra in "${parts[@]:3}"; do
        case $extra in
            dpo) echo --objective dpo ;;
            replay) echo --replay 0.5 ;;
            rcheat) echo --replay 1.0 --replay-from cheat ;;  # one base-model answer on the broad pool per example
            f[0-9][0-9]) echo --threshold "0.${extra#f}" ;;  # f30: the floor (the threshold) at 0.30
            t[0-9]*) echo --tasks "${extra#t}" ;;  # t32: 32 tasks a pass instead of 16 (the last --tasks wins)
            s[0-9]*) echo --seed "${extra#s}" ;;  # s1: another seed, a replicate (the last --seed wins)
            n[0-9]*) echo --candidates "${extra#n}" ;;  # n8: 8 candidates a task instead of 4
            *) echo "unknown extra '$extra' in cell $1" >&2; return 1 ;;
        esac
    done
}

for cell in "$@"; do
    spec=$(flags_of "$cell") || exit 2  # an unknown cell name stops the queue, never runs as defaults
    read -r -a flags <<< "$(tr '\n' ' ' <<< "$spec")"
    if [[ -e "$out/$cell/progress.json" ]]; then
        echo "$cell: $out/$cell exists; resuming it"
        run=("${cli[@]}" run --headless --resume "$out/$cell")
    else
        run=("${cli[@]}" "${common[@]}" "${flags[@]}" --output "$out/$cell")
    fi
    echo "$cell: ${run[*]}" | tee "$out/$cell.command"
    /usr/bin/time -f "wall_s=%e peak_rss_kb=%M" -o "$out/$cell.time" "${run[@]}" > "$out/$cell.log" 2>&1 \
        || echo "$cell: exit $?" | tee -a "$out/$cell.time"
done
