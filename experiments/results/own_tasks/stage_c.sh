# Issue 32 stage (c): the cells of the chosen strength (6 epochs at 6e-4, chosen on half A by
# experiments/train_strength.py), then each cell's uptake. One model process at a time.
# PYTHONPATH pins the package to the tested tree the cells ran on (a worktree at that commit).
set -x
export HF_HUB_OFFLINE=1
cd /work/main
out=experiments/results/own_tasks
for cell in "$@"; do
  bash experiments/own_tasks_screen.sh $out $cell
  d=$out/$cell.uptake
  .venv/bin/python experiments/uptake.py $out/$cell $d > $d.picks.log 2>&1 || continue
  last=$(ls -d $out/$cell/checkpoint_cycle_* | sort -V | tail -1)
  .venv/bin/inversion-tui eval --tasks-file $d/trained_tasks.jsonl --save-rows $d/base.jsonl > $d/base.log 2>&1
  .venv/bin/inversion-tui eval --tasks-file $d/trained_tasks.jsonl --adapter $last --save-rows $d/adapter.jsonl \
      --paired-with $d/base.jsonl > $d/adapter.log 2>&1
done
echo finished
