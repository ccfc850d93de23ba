# Issue 32 stage (c): cells of the chosen strength (6 epochs at 6e-4, chosen on half A by
# experiments/train_strength.py), each then its uptake. One model process at a time.
#
#   cd REPOSITORY && PYTHONPATH=CHECKOUT bash CHECKOUT/experiments/results/own_tasks/stage_c.sh CELL ...
#
# CHECKOUT is a checkout of the commit the cells ran on (a git worktree): its package (through
# PYTHONPATH) and its scripts run; the run files land under the current directory's
# experiments/results/own_tasks, with its .venv. Run from the repository itself, it uses the
# repository's own code.
set -x
export HF_HUB_OFFLINE=1
tree=$(cd "$(dirname "$0")/../../.." && pwd)
out=experiments/results/own_tasks
for cell in "$@"; do
  bash "$tree/experiments/own_tasks_screen.sh" $out $cell
  d=$out/$cell.uptake
  .venv/bin/python "$tree/experiments/uptake.py" $out/$cell $d > $d.picks.log 2>&1 || continue
  last=$(ls -d $out/$cell/checkpoint_cycle_* | sort -V | tail -1)
  .venv/bin/inversion-tui eval --tasks-file $d/trained_tasks.jsonl --save-rows $d/base.jsonl > $d/base.log 2>&1
  .venv/bin/inversion-tui eval --tasks-file $d/trained_tasks.jsonl --adapter $last --save-rows $d/adapter.jsonl \
      --paired-with $d/base.jsonl > $d/adapter.log 2>&1
done
echo finished
