set -x
export HF_HUB_OFFLINE=1
cd /work/main
for cell in keep-A thr-A; do
  d=experiments/results/own_tasks/$cell.uptake
  .venv/bin/inversion-tui eval --tasks-file $d/trained_tasks.jsonl --save-rows $d/base.jsonl > $d/base.log 2>&1
  .venv/bin/inversion-tui eval --tasks-file $d/trained_tasks.jsonl --adapter experiments/results/own_tasks/$cell/checkpoint_cycle_2 --save-rows $d/adapter.jsonl --paired-with $d/base.jsonl > $d/adapter.log 2>&1
done
bash experiments/own_tasks_screen.sh experiments/results/own_tasks thr-core
echo finished
