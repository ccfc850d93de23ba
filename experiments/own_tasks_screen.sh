#!/usr/bin/env bash
# Issue 32's screen, stages (b) and (c): does the loop learn the tasks it is given? InterCode-ALFA in two
# fixed halves: half A (`intercode:a`) is the pool and the only place settings are chosen, half
# B (`intercode:b`, all 150 tasks) is evaluated greedy before cycle 1 and after every cycle,
# paired with the base model task by task, and never used to choose.
#
#   bash experiments/own_tasks_screen.sh OUT_DIR CELL [CELL ...]
#   python experiments/matrix_report.py OUT_DIR/*        (or run_report.py on one run)
#   python experiments/uptake.py OUT_DIR/CELL OUT_DIR/CELL.uptake   (then the two eval commands it prints)
#
# Cells (fixed before any number; 2 cycles from the base, --train-from base, SFT, seed 0):
#   thr-core   today's default recipe: cheat-basics, --select threshold 0.40, 16 tasks x 4 a pass
#   thr-A      the pool intercode:a, --select threshold 0.40, 32 tasks x 4 a pass
#   keep-A     the pool intercode:a, --select keep-top --keep-top 0.5 (Q chosen on half A's
#              committed samples: experiments/pick_table.py), 32 tasks x 4 a pass
#   keep-B     keep-A's recipe the other way round: the pool intercode:b, evaluated on intercode:a
#              (stage c's swap: the chosen recipe's figure then stands on all 300 held-out pairs)
#   tt-A       test-time training, labelled as such: the pool intercode:a evaluated on itself
#              (--eval-suite pool) and on intercode:b in the same run; with -t150 a pass is all of A
#   pen-hold   the pentest side: the --pack templates as the pool, 0.3 of them held out by id
#              (--holdout 0.3 --eval-suite holdout), keep-top 0.5, 32 tasks x 4 a pass
# Extras after the name: -s1 (--seed 1), -n8 (--candidates 8), -e4 (--epochs 4), -l0.0006 (--lr 6e-4),
# -t150 (--tasks 150 a pass), -c1 (--cycles 1).
# Cells run one after another, never side by side (2 cores). Each leaves OUT_DIR/CELL (the run),
# OUT_DIR/CELL.log, OUT_DIR/CELL.command and OUT_DIR/CELL.time (wall time, peak RSS).
set -euo pipefail
out=${1:?usage: own_tasks_screen.sh OUT_DIR CELL [CELL ...]}
shift
mkdir -p "$out"
export HF_HUB_OFFLINE=1
cli=(${INVERSION_TUI:-.venv/bin/inversion-tui})
common=(run --headless --cycles "${CYCLES:-2}" --candidates 4 --pack pentest,shell --train-from base --seed 0)

flags_of() {
    local -a parts
    IFS=- read -r -a parts <<< "$1"
    case ${parts[0]}-${parts[1]} in
        thr-core) echo --tasks-from cheat-basics --select threshold --threshold 0.4 --tasks 16 --eval-suite intercode:b ;;
        thr-A) echo --tasks-from intercode:a --select threshold --threshold 0.4 --tasks 32 --eval-suite intercode:b ;;
        keep-A) echo --tasks-from intercode:a --select keep-top --keep-top 0.5 --tasks 32 --eval-suite intercode:b ;;
        keep-B) echo --tasks-from intercode:b --select keep-top --keep-top 0.5 --tasks 32 --eval-suite intercode:a ;;
        tt-A) echo --tasks-from intercode:a --select keep-top --keep-top 0.5 --tasks 32 --eval-suite pool,intercode:b ;;
        pen-hold) echo --tasks-from packs --holdout 0.3 --select keep-top --keep-top 0.5 --tasks 32 --eval-suite holdout ;;
        *) echo "unknown cell $1" >&2; return 1 ;;
    esac
    for extra in "${parts[@]:2}"; do
        case $extra in
            s[0-9]*) echo --seed "${extra#s}" ;;
            n[0-9]*) echo --candidates "${extra#n}" ;;
            e[0-9]*) echo --epochs "${extra#e}" ;;
            l[0-9]*) echo --lr "${extra#l}" ;;
            t[0-9]*) echo --tasks "${extra#t}" ;;
            c[0-9]*) echo --cycles "${extra#c}" ;;
            *) echo "unknown extra '$extra' in cell $1" >&2; return 1 ;;
        esac
    done
}

for cell in "$@"; do
    spec=$(flags_of "$cell") || exit 2
    read -r -a flags <<< "$(tr '\n' ' ' <<< "$spec")"
    if [[ -e "$out/$cell/progress.json" ]]; then
        run=("${cli[@]}" run --headless --resume "$out/$cell")
    else
        run=("${cli[@]}" "${common[@]}" "${flags[@]}" --output "$out/$cell")
    fi
    echo "$cell: ${run[*]}" | tee "$out/$cell.command"
    /usr/bin/time -f "wall_s=%e peak_rss_kb=%M" -o "$out/$cell.time" "${run[@]}" > "$out/$cell.log" 2>&1 \
        || echo "$cell: exit $?" | tee -a "$out/$cell.time"
done
