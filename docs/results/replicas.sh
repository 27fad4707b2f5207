#!/usr/bin/env bash
# Regenerates the data-parallel runs behind docs/results.md ("Smaller shards: data-parallel runs"):
# sam and agnostic-sam on the demo's setting (MLP, 5000 training images, 40 % label noise, 40
# epochs, batch 128) with 1, 2 and 4 replicas (m = 128, 64, 32 examples a perturbation), seeds 0-2,
# then the table (docs/results/replicas.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=docs/results/replicas
mkdir -p "$out"
for seed in 0 1 2; do
  for optimizer in agnostic-sam sam; do
    for replicas in 1 2 4; do
      ./agnostic-sam train --engine djl --model mlp --limit 5000 --epochs 40 --noise 0.4 --optimizer "$optimizer" \
        --seed "$seed" --replicas "$replicas" --json "$out/$optimizer-replicas$replicas-seed$seed.json" 2>/dev/null \
        | tail -n 1
    done
  done
done
./agnostic-sam results "$out" > docs/results/replicas.md
cat docs/results/replicas.md
