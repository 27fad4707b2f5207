#!/usr/bin/env bash
# Regenerates the sharpness diagnostics of docs/results.md: the 40 %-noise runs of run.sh again, with
# lambda_max, the trace and rho-sharpness measured after every 10th epoch (train --sharpness-every 10,
# on the first 1024 training images with clean labels), then the table docs/results/sharpness.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=docs/results/sharpness
mkdir -p "$out"
for optimizer in sgd sam agnostic-sam agnostic-sam-fast; do
  for seed in 0 1 2; do
    ./agnostic-sam train --model mlp --limit 5000 --epochs 40 --noise 0.4 --optimizer "$optimizer" --seed "$seed" \
      --sharpness-every 10 --json "$out/$optimizer-noise0.4-seed$seed.json" 2>/dev/null | tail -n 2
  done
done
./agnostic-sam results "$out" > docs/results/sharpness.md
cat docs/results/sharpness.md
