#!/usr/bin/python3
"""The eager PyTorch reference for `./agnostic-sam bench`: the same steps, timed the same way.

Run with Debian's python3-torch (`/usr/bin/python3`, torch 1.13), not a Python without torch:

    /usr/bin/python3 benchmarks/pytorch/step_bench.py [--model mlp|mlp-bn|cnn|resnet-small] [--threads 2]

Per optimizer, in its own phase: a warm-up of at least 20 iterations and 3 seconds and until the
time per iteration settles (bench's protocol), then 200 measured iterations, each one step and then the
bare forward+backward passes that step needs (same batches), alternating; medians of each, their
ratio, the process RSS. The steps are the per-tensor loops of davda54/sam (perturb the parameters
in place, restore them from a copy, then torch.optim.SGD) with this project's algorithm
(docs/algorithm.md): SAM, Agnostic-SAM FAST and EXACT, and the bad-value guard — every loss and
gradient checked for finiteness, and the new parameters, momentum buffers and running statistics
kept only when all of them are finite, without reading a value back to the host in the step
(--no-guard leaves the guard out). The loss is read once per step, as bench reads it. Freed memory
is reused (config/malloc.env, as the launcher does; --system-malloc: glibc's defaults).

ops/step: the aten operators one step runs, forward and backward passes included, views (which
launch no kernel) aside, counted below autograd by a TorchDispatchMode; "bare ops" the same for
the bare passes. Their difference is the optimizer's own.

Debian's python3-torch multiplies matrices with whatever libblas.so.3 the alternatives system
picks; the reference BLAS of libblas3 is some 40x slower than OpenBLAS here, so install
libopenblas0-pthread first (the header line names the BLAS library loaded).
"""

import argparse
import gzip
import json
import os
import re
import statistics
import struct
import sys
import textwrap
import time

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

DATA = "/usr/share/datasets/fashion-mnist"
OPTIMIZERS = ["sgd", "sam", "agnostic-sam-fast", "agnostic-sam"]
EPSILON = 1e-12  # the ascent direction's guard, docs/algorithm.md


def finite(t):
    """1-element bool: every element finite. Two reductions, as the djl engine does: torch's max and
    min propagate NaN (torch.isfinite makes four full-size temporaries in torch 1.13)."""
    return (t.max() < float("inf")) & (t.min() > float("-inf"))


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return torch.frombuffer(bytearray(data[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)


def batches(model, batch, val_batch, data):
    """The first batch + val_batch images of a seeded permutation of the training set, pixels / 255."""
    images = read_idx(os.path.join(data, "train-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(data, "train-labels-idx1-ubyte.gz")).long()
    order = torch.randperm(images.shape[0], generator=torch.Generator().manual_seed(0))
    x = images[order[:batch + val_batch]].float() / 255
    x = x.reshape(-1, 1, 28, 28) if model in ("cnn", "resnet-small") else x.reshape(-1, 784)
    y = labels[order[:batch + val_batch]]
    return (x[:batch], y[:batch]), (x[batch:], y[batch:])


def network(model):
    """The standard models of docs/models.md."""
    if model == "mlp":
        return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    if model == "mlp-bn":
        return nn.Sequential(nn.Linear(784, 256, bias=False), nn.BatchNorm1d(256), nn.ReLU(), nn.Linear(256, 10))
    if model == "cnn":
        return nn.Sequential(nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(3136, 10))
    if model == "resnet-small":
        return documented_module("ResNetSmall")()
    raise SystemExit(f"step_bench.py: --model must be one of mlp, mlp-bn, cnn, resnet-small, got '{model}'")


def documented_module(name):
    """A PyTorch module as docs/models.md defines it (its one home), run from the doc's code block."""
    doc = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "models.md")).read()
    for block in doc.split("```python")[1:]:
        code = block.split("```")[0]
        if f"class {name}(" in code:
            namespace = {}
            exec(textwrap.dedent(code), namespace)
            return namespace[name]
    raise SystemExit(f"step_bench.py: docs/models.md defines no module {name}")


def passes(name):
    """The passes of a step, as (batch, perturbed): docs/algorithm.md."""
    return {"sgd": [("train", False)],
            "sam": [("train", False), ("train", True)],
            "agnostic-sam-fast": [("train", False), ("validation", False), ("train", True)],
            "agnostic-sam": [("train", False), ("validation", False), ("validation", True), ("train", True)]}[name]


class Step:
    """One optimizer's step in the style of davda54/sam, with the guard of docs/algorithm.md."""

    def __init__(self, name, net, guard, lr=0.01, momentum=0.9, weight_decay=5e-4, rho=0.05, rho1=0.1, rho2=0.05):
        self.name, self.net, self.guard = name, net, guard
        self.params = [p for p in net.parameters()]
        self.base = torch.optim.SGD(self.params, lr=lr, momentum=momentum, weight_decay=weight_decay)
        self.rho, self.rho1, self.rho2 = rho, rho1, rho2
        self.norms = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        # torch.optim.SGD makes its momentum buffers in the first step; make them now (zero: the
        # same first step as torch's "buf = d", docs/algorithm.md) so that the guard can keep them.
        for p in self.params:
            self.base.state[p]["momentum_buffer"] = torch.zeros_like(p)

    def _gradients(self, batch, clean):
        """Loss and gradients at the current parameters; only the clean pass moves BatchNorm's statistics."""
        for m in self.norms:  # davda54/sam's disable_running_stats
            m.momentum = 0.1 if clean else 0.0
        for p in self.params:
            p.grad = None
        loss = F.cross_entropy(self.net(batch[0]), batch[1])
        loss.backward()
        return loss, [p.grad for p in self.params]

    def _ascent(self, grads, rho):
        """ρ·D(θ, g) = ρ·g / (‖g‖ + ε), ‖·‖ over every tensor together."""
        norm = torch.norm(torch.stack([g.norm(p=2) for g in grads]), p=2)
        scale = rho / (norm + EPSILON)
        return [g * scale for g in grads]

    def _perturb(self, e):
        with torch.no_grad():
            for p, d in zip(self.params, e):
                p.add_(d)

    def _restore(self, old):
        with torch.no_grad():
            for p, o in zip(self.params, old):
                p.copy_(o)  # exact: from a copy, not by subtracting e back

    def run(self, train, validation):
        flags = []
        losses = []

        def evaluate(batch, clean=False):
            loss, grads = self._gradients(batch, clean)
            losses.append(loss.detach())
            if self.guard:
                flags.extend(finite(g) for g in grads)
            return grads  # new tensors each pass: the gradients are set to None before it

        old = [p.detach().clone() for p in self.params]
        statistics_before = [t.clone() for m in self.norms for t in (m.running_mean, m.running_var)]
        g_train = evaluate(train, clean=True)
        if self.name == "sam":
            self._perturb(self._ascent(g_train, self.rho))
            g = evaluate(train)
        elif self.name in ("agnostic-sam-fast", "agnostic-sam"):
            ascent = self._ascent(g_train, self.rho1)
            g_val = evaluate(validation)
            if self.name == "agnostic-sam":
                self._perturb(self._ascent(g_val, self.rho2))
                g_val = evaluate(validation)
                self._restore(old)
            e = [a - d for a, d in zip(ascent, self._ascent(g_val, self.rho2))]
            self._perturb(e)
            g = evaluate(train)
        else:
            g = g_train
        if self.name != "sgd":
            self._restore(old)
        for p, grad in zip(self.params, g):
            p.grad = grad
        if not self.guard:
            self.base.step()
            return torch.stack(losses)
        buffers = [self.base.state[p]["momentum_buffer"] for p in self.params]
        old_buffers = [b.clone() for b in buffers]
        self.base.step()
        new = self.params + buffers
        ok = torch.stack(flags).all() & finite(torch.stack(losses)) & torch.stack([finite(t) for t in new]).all()
        # The selected values take the tensors' places (davda54/sam's p.data = ...), no copy back.
        for p, before in zip(self.params, old):
            p.data = torch.where(ok, p.data, before)
        for p, before in zip(self.params, old_buffers):
            self.base.state[p]["momentum_buffer"] = torch.where(ok, self.base.state[p]["momentum_buffer"], before)
        for m, mean, var in zip(self.norms, statistics_before[0::2], statistics_before[1::2]):
            m.running_mean = torch.where(ok & finite(m.running_mean), m.running_mean, mean)
            m.running_var = torch.where(ok & finite(m.running_var), m.running_var, var)
        return torch.stack(losses)


def bare(name, net, train, validation):
    """The forward+backward passes of the step on the same batches, and nothing else."""
    losses = []
    for which, _ in passes(name):
        for p in net.parameters():
            p.grad = None
        loss = F.cross_entropy(net(train[0] if which == "train" else validation[0]),
                               train[1] if which == "train" else validation[1])
        loss.backward()
        losses.append(loss.detach())
    return torch.stack(losses)


class _Operations(TorchDispatchMode):
    """Counts the aten operators that reach the dispatcher below autograd, views aside."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if not any(r.alias_info is not None and not r.alias_info.is_write for r in func._schema.returns):
            self.count += 1
        return func(*args, **(kwargs or {}))


def operations(fn):
    """The aten operators fn runs (forward and backward), views (no kernel) aside."""
    with _Operations() as mode:
        fn()
    return mode.count


def blas():
    """The file libblas.so.3 resolved to (reference BLAS or OpenBLAS, say)."""
    with open("/proc/self/maps") as f:
        for line in f:
            if "libblas" in line or "openblas" in line:
                return os.path.realpath(line.split()[-1])
    return "unknown"


def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return -1


# glibc's malloc hands each freed large block back to the kernel, so every new full-size tensor
# page-faults afresh: 1.5 ms for an 800 KB one on this VM, where reusing freed memory takes 40 us.
# The reference keeps freed memory, as the agnostic-sam launcher does for the engines (and PyTorch's
# caching allocator on a GPU): the script re-executes itself once with the settings of
# config/malloc.env, the one home of them, that the environment does not set already.
# As the launcher: a variable set (non-empty) in the environment wins, AGNOSTIC_SAM_SYSTEM_MALLOC or
# --system-malloc keeps glibc's defaults.
def missing_malloc_settings():
    if os.environ.get("AGNOSTIC_SAM_SYSTEM_MALLOC") or "--system-malloc" in sys.argv:
        return {}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "config", "malloc.env")
    with open(path) as f:
        pairs = (re.match(r"(MALLOC_[A-Z_]+)=(.*)", line.strip()) for line in f)
        return {m[1]: m[2] for m in pairs if m and not os.environ.get(m[1])}


def warm_up(iteration, steps, seconds):
    """bench's rule: at least `steps` iterations and `seconds`, then until the medians of two
    consecutive windows of 25 differ by less than 5 %, for 20 x `seconds` at most."""
    start = time.perf_counter()
    window, previous, settled, s = [], None, seconds == 0, 0
    while True:
        t0 = time.perf_counter()
        iteration()
        t1 = time.perf_counter()
        window.append(t1 - t0)
        if len(window) == 25:
            current = statistics.median(window)
            settled = settled or (previous is not None and abs(current - previous) < 0.05 * previous)
            previous, window = current, []
        s += 1
        if s >= steps and t1 - start >= seconds and (settled or t1 - start >= 20 * seconds):
            return


def main():
    missing = missing_malloc_settings()
    if missing:
        os.execve(sys.executable, [sys.executable] + sys.argv, {**os.environ, **missing})
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mlp")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--val-batch", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--warmup-seconds", type=float, default=3.0)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--optimizers", default=",".join(OPTIMIZERS))
    parser.add_argument("--no-guard", action="store_true", help="leave the bad-value guard out")
    parser.add_argument("--data", default=DATA)
    parser.add_argument("--system-malloc", action="store_true", help="keep glibc's default malloc settings")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON, in bench's keys")
    args = parser.parse_args()
    names = args.optimizers.split(",")
    for n in names:
        if n not in OPTIMIZERS:
            raise SystemExit(f"step_bench.py: --optimizers takes {', '.join(OPTIMIZERS)}, got '{n}'")
    if not os.path.exists(os.path.join(args.data, "train-images-idx3-ubyte.gz")):
        raise SystemExit(f"step_bench.py: no Fashion-MNIST in {args.data} (sudo apt-get install dataset-fashion-mnist)")
    torch.set_num_threads(args.threads)
    train, validation = batches(args.model, args.batch, args.val_batch, args.data)
    torch.ones(2, 2) @ torch.ones(2, 2)  # loads the BLAS library
    print(f"pytorch {torch.__version__} eager on cpu, BLAS {blas()}, {torch.get_num_threads()} threads; {args.model}, batch "
          f"{args.batch}, validation batch {args.val_batch}, warm-up of at least {args.warmup} steps and {args.warmup_seconds} s until steady, "
          f"{args.steps} measured steps"
          f"{', no guard' if args.no_guard else ''}{', system malloc' if args.system_malloc else ''}")
    print(f"{'optimizer':<20} {'step ms':>12} {'evals':>6} {'bare ms':>12} {'overhead':>9} {'RSS MiB':>10} "
          f"{'ops/step':>9} {'bare ops':>9} {'tensors':>8}")
    results = []
    for name in names:
        torch.manual_seed(0)
        net = network(args.model)
        net.train()
        step = Step(name, net, guard=not args.no_guard)
        step_times, bare_times = [], []
        warm_up(lambda: (step.run(train, validation)[0].item(), bare(name, net, train, validation)[0].item()),
                args.warmup, args.warmup_seconds)
        for s in range(args.steps):
            t0 = time.perf_counter()
            step.run(train, validation)[0].item()
            t1 = time.perf_counter()
            bare(name, net, train, validation)[0].item()
            t2 = time.perf_counter()
            step_times.append(t1 - t0)
            bare_times.append(t2 - t1)
        step_ops = operations(lambda: step.run(train, validation)[0].item())
        bare_ops = operations(lambda: bare(name, net, train, validation)[0].item())
        s_med, b_med = statistics.median(step_times), statistics.median(bare_times)
        print(f"{name:<20} {s_med * 1e3:12.3f} {len(passes(name)):6d} {b_med * 1e3:12.3f} {s_med / b_med:9.3f} "
              f"{rss() / 1048576:10.0f} {step_ops:9d} {bare_ops:9d} {len(step.params):8d}")
        sys.stdout.flush()
        results.append({"model": args.model, "optimizer": name, "medianStepSeconds": s_med,
                        "medianBareSeconds": b_med, "overhead": s_med / b_med, "gradientEvaluations": len(passes(name)),
                        "operationsPerStep": step_ops, "bareOperations": bare_ops})
    if args.json:
        # Whole or not at all, as bench writes its reports.
        with open(args.json + ".tmp", "w") as f:
            json.dump({"engine": "pytorch", "version": torch.__version__, "guard": not args.no_guard,
                       "threads": torch.get_num_threads(), "batch": args.batch, "valBatch": args.val_batch,
                       "results": results}, f, indent=2)
        os.replace(args.json + ".tmp", args.json)


if __name__ == "__main__":
    main()
