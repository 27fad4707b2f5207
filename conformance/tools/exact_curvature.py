#!/usr/bin/env python3
"""Exact curvature of a `train` checkpoint of the standard MLP, in PyTorch: the reference that the
library's `sharpness` command is compared with (docs/diagnostics.md, "Exact products").

usage: /usr/bin/python3 conformance/tools/exact_curvature.py CHECKPOINT [PROBES] [DATA_DIR]

The loss is the library's diagnostics loss: the mean softmax cross-entropy of the standard MLP
(784-256-ReLU-10, y = W1·relu(W0·x + b0) + b1) over the first 1024 training images (pixels / 255)
with their clean labels, in float64. Hessian-vector products are double backward
(torch.autograd.grad with create_graph=True). Prints λ_max by Lanczos (full reorthogonalisation, to
a relative change of 1e-10) and Hutchinson's trace estimate with PROBES Rademacher probes (default
100; independent of the library's probes: compare within their combined standard errors).
The Java code is not consulted; the checkpoint is read as the safetensors file it is.
"""
import gzip
import json
import struct
import sys

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def read_checkpoint(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        assert entry["dtype"] == "F32", entry
        begin, end = entry["data_offsets"]
        data = raw[8 + n + begin:8 + n + end]
        out[name] = torch.tensor(struct.unpack("<%df" % (len(data) // 4), data)).reshape(entry["shape"])
    return out


def read_images(folder, count):
    with gzip.open(folder + "/train-images-idx3-ubyte.gz") as f:
        magic, items, rows, cols = struct.unpack(">IIII", f.read(16))
        pixels = f.read(count * rows * cols)
    with gzip.open(folder + "/train-labels-idx1-ubyte.gz") as f:
        f.read(8)
        labels = f.read(count)
    x = torch.tensor(list(pixels), dtype=torch.float64).reshape(count, rows * cols) / 255
    y = torch.tensor(list(labels), dtype=torch.long)
    return x, y


def main():
    checkpoint = sys.argv[1]
    probes = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    data = sys.argv[3] if len(sys.argv) > 3 else "/usr/share/datasets/fashion-mnist"
    p = read_checkpoint(checkpoint)
    shapes = [p["params.W0"].shape, p["params.b0"].shape, p["params.W1"].shape, p["params.b1"].shape]
    theta = torch.cat([p[k].reshape(-1) for k in ["params.W0", "params.b0", "params.W1", "params.b1"]])
    x, y = read_images(data, 1024)

    def loss(t):
        parts, at = [], 0
        for s in shapes:
            n = 1
            for d in s:
                n *= d
            parts.append(t[at:at + n].reshape(s))
            at += n
        h = F.relu(F.linear(x, parts[0], parts[1]))
        return F.cross_entropy(F.linear(h, parts[2], parts[3]), y)

    t = theta.clone().requires_grad_(True)
    gradient = torch.autograd.grad(loss(t), t, create_graph=True)[0]

    def hvp(v):
        return torch.autograd.grad(gradient, t, v, retain_graph=True)[0].detach()

    g = torch.Generator().manual_seed(0)
    q = torch.rand(theta.numel(), generator=g) * 2 - 1
    q = q / q.norm()
    basis, alphas, betas, previous = [], [], [], None
    for m in range(1, 201):
        basis.append(q)
        w = hvp(q)
        alphas.append(float(q @ w))
        for _ in range(2):
            for b in basis:
                w = w - (b @ w) * b
        beta = float(w.norm())
        betas.append(beta)
        tri = torch.diag(torch.tensor(alphas)) + torch.diag(torch.tensor(betas[:-1]), 1) \
            + torch.diag(torch.tensor(betas[:-1]), -1)
        top = float(torch.linalg.eigvalsh(tri)[-1])
        if previous is not None and abs(top - previous) <= 1e-10 * abs(top):
            break
        previous = top
        q = w / beta
    samples = []
    for _ in range(probes):
        z = (torch.randint(0, 2, (theta.numel(),), generator=g) * 2 - 1).to(torch.float64)
        samples.append(float(z @ hvp(z)))
    s = torch.tensor(samples)
    print("loss %.6f  lambda_max %.6f (Lanczos, %d products)  trace %.4f +- %.4f (Hutchinson, %d probes; exact "
          "products, float64, torch %s)" % (float(loss(theta)), top, m, float(s.mean()),
                                              float(s.std() / len(samples) ** 0.5), probes, torch.__version__))


if __name__ == "__main__":
    main()
