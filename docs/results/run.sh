#!/usr/bin/env bash
# Regenerates the runs behind docs/results.md: sgd, sam, agnostic-sam and agnostic-sam-fast on
# Fashion-MNIST (MLP, 5000 training images, 40 epochs), label noise 0 / 0.4 / 0.6, seeds 0-2,
# then the table (docs/results/table.md) and the chart (docs/results/results.png).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=docs/results/runs
mkdir -p "$out"
for noise in 0 0.4 0.6; do
  for optimizer in sgd sam agnostic-sam agnostic-sam-fast; do
    for seed in 0 1 2; do
      ./agnostic-sam train --model mlp --limit 5000 --epochs 40 --noise "$noise" --optimizer "$optimizer" \
        --seed "$seed" --json "$out/$optimizer-noise$noise-seed$seed.json" 2>/dev/null | tail -n 1
    done
  done
done
./agnostic-sam results "$out" --chart docs/results/results.png > docs/results/table.md
cat docs/results/table.md
