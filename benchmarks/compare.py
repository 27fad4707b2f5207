#!/usr/bin/python3
"""Step and bare-pass times of the engines beside plain PyTorch eager, in interleaved rounds.

    /usr/bin/python3 benchmarks/compare.py [--rounds 5] [--models mlp,cnn,resnet-small]
        [--optimizers sgd,agnostic-sam] [--engines djl,tensorflow] [--steps 60] [--threads 2]
        [--warmup-seconds S] [--runner NAME=COMMAND ...] [--no-pytorch] [--json FILE]

A round runs every runner once per model, the runners' order rotated from round to round, so that
a slow spell of the machine falls on all of them; each run is a fresh process with `bench`'s
protocol (warm-up until steady, then alternating step / bare passes, medians). The table gives,
per model and optimizer, each runner's median over the rounds of its step and bare-pass medians
(with their range), minor page faults per bare pass (the engines'; see config/malloc.env) and the
ratio to **plain PyTorch eager**: davda54/sam's per-tensor loops with
this project's algorithm and no bad-value guard (`step_bench.py --no-guard`), what a user would run
instead. `pytorch-guarded` (the same loops with the guard this library has) is the second column.

Runners: `djl`, `tensorflow` (any engine name: `./agnostic-sam bench --engine NAME`), `pytorch`,
`pytorch-guarded`, and any `--runner NAME=COMMAND`: a command that takes bench's options after it,
e.g. `--runner 'tf-old=java -cp old.jar:lib/* io.github.agnosticsam.examples.Main bench --engine
tensorflow'` or `--runner 'djl-arena=env MALLOC_ARENA_MAX=8 ./agnostic-sam bench --engine djl'`.
Needs Debian's python3-torch and libopenblas0-pthread (step_bench.py says why).
"""

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STEP_BENCH = os.path.join(ROOT, "benchmarks", "pytorch", "step_bench.py")
BASELINE = "pytorch"


def runners(args):
    """name -> function(model, json path) -> argv."""
    common = ["--optimizers", args.optimizers, "--steps", str(args.steps), "--threads", str(args.threads)]
    if args.warmup_seconds is not None:
        common += ["--warmup-seconds", str(args.warmup_seconds)]
    out = {}
    for engine in filter(None, args.engines.split(",")):
        out[engine] = lambda m, j, e=engine: [os.path.join(ROOT, "agnostic-sam"), "bench", "--engine", e,
                                              "--model", m, "--json", j] + common
    for spec in args.runner:
        name, sep, command = spec.partition("=")
        if not sep or not name or not command:
            sys.exit(f"compare.py: --runner takes NAME=COMMAND, got '{spec}'")
        if name in out or (name in (BASELINE, "pytorch-guarded") and not args.no_pytorch):
            sys.exit(f"compare.py: --runner '{name}' is already a runner; give it another name")
        out[name] = lambda m, j, c=command: shlex.split(c) + ["--model", m, "--json", j] + common
    if not args.no_pytorch:
        out[BASELINE] = lambda m, j: [sys.executable, STEP_BENCH, "--no-guard", "--model", m, "--json", j] + common
        out["pytorch-guarded"] = lambda m, j: [sys.executable, STEP_BENCH, "--model", m, "--json", j] + common
    return out


def run(argv, path, model):
    """The rows of one run's JSON, which it must have written (a fresh path per run) for this model."""
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0 or not os.path.exists(path):
        sys.exit(f"compare.py: {' '.join(argv)} failed (exit {done.returncode}"
                 f"{'' if os.path.exists(path) else ', no JSON written'}):\n{done.stdout[-3000:]}")
    with open(path) as f:
        rows = json.load(f)["results"]
    if not rows or any(row["model"] != model for row in rows):
        sys.exit(f"compare.py: {' '.join(argv)} reported {[row['model'] for row in rows]}, not {model}")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--models", default="mlp,cnn,resnet-small")
    parser.add_argument("--optimizers", default="sgd,agnostic-sam")
    parser.add_argument("--engines", default="djl,tensorflow")
    parser.add_argument("--runner", action="append", default=[], metavar="NAME=COMMAND")
    parser.add_argument("--no-pytorch", action="store_true", help="leave both PyTorch runners out")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup-seconds", type=float)
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()
    if args.rounds < 1:
        sys.exit(f"compare.py: --rounds must be at least 1, got {args.rounds}")
    models = [m for m in args.models.split(",") if m]
    if not models:
        sys.exit(f"compare.py: --models names no model: '{args.models}'")
    table = runners(args)
    names = list(table)
    # (model, optimizer, runner) -> list of (step s, bare s), one per round
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            order = names[r % len(names):] + names[:r % len(names)]
            for model in models:
                for name in order:
                    path = os.path.join(tmp, f"round{r}-{model}-{names.index(name)}.json")
                    for row in run(table[name](model, path), path, model):
                        figures.setdefault((model, row["optimizer"], name), []).append(
                            (row["medianStepSeconds"], row["medianBareSeconds"], row.get("minorFaultsPerBarePasses")))
                    print(f"round {r + 1}/{args.rounds} {model} {name} done", file=sys.stderr, flush=True)
    print(f"medians of {args.rounds} interleaved rounds, {args.steps} measured steps each, {args.threads} threads; "
          f"ms (range over rounds); × = ratio to plain PyTorch eager ({BASELINE}: davda54/sam loops, no guard)")
    print(f"{'model':<13} {'optimizer':<13} {'runner':<16} {'step ms':>22} {'bare ms':>22} {'step ×':>7} {'bare ×':>7} "
          f"{'faults/bare':>11}")
    report = []
    for model in models:
        for optimizer in args.optimizers.split(","):
            base = figures.get((model, optimizer, BASELINE))
            for name in names:
                rounds = figures.get((model, optimizer, name))
                if not rounds:
                    continue
                step = statistics.median(x[0] for x in rounds)
                bare = statistics.median(x[1] for x in rounds)
                counted = [x[2] for x in rounds if x[2] is not None]
                faults = statistics.median(counted) if counted else None
                ratio = lambda v, i: v / statistics.median(x[i] for x in base) if base else float("nan")
                cell = lambda i: (f"{statistics.median(x[i] for x in rounds) * 1e3:.2f} "
                                  f"({min(x[i] for x in rounds) * 1e3:.1f}–{max(x[i] for x in rounds) * 1e3:.1f})")
                print(f"{model:<13} {optimizer:<13} {name:<16} {cell(0):>22} {cell(1):>22} "
                      f"{ratio(step, 0):7.2f} {ratio(bare, 1):7.2f} {'-' if faults is None else f'{faults:.0f}':>11}")
                report.append({"model": model, "optimizer": optimizer, "runner": name,
                               "rounds": [{"stepSeconds": s, "bareSeconds": b, "minorFaultsPerBarePasses": f}
                                          for s, b, f in rounds],
                               "medianStepSeconds": step, "medianBareSeconds": bare,
                               "medianMinorFaultsPerBarePasses": faults,
                               "stepRatioToPytorch": ratio(step, 0) if base else None,
                               "bareRatioToPytorch": ratio(bare, 1) if base else None})
    if args.json:
        with open(args.json + ".tmp", "w") as f:
            json.dump({"rounds": args.rounds, "steps": args.steps, "threads": args.threads, "results": report}, f,
                      indent=2)
        os.replace(args.json + ".tmp", args.json)


if __name__ == "__main__":
    main()
