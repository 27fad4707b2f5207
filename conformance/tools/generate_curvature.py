#!/usr/bin/env python3
"""Golden numbers for the curvature diagnostics (issue 11), from PyTorch's autograd in float64.

An independent reference: the Hessian of the training loss comes from
torch.autograd.functional.hessian (exact second derivatives, no finite differences), its
eigenvalues from torch.linalg.eigvalsh, Hessian-vector products from
torch.autograd.functional.hvp. The Java code is not consulted.

The model is a small tanh MLP (tanh: smooth, so a central difference of gradients converges to
the exact product; see docs/diagnostics.md for ReLU). The seed is one whose largest eigenvalue is
well apart from the next (ratio 1.8) and from the most negative one, so that power iteration
converges in a few dozen products and finds the largest, not the largest in magnitude. The training loss is the size-weighted mean
of the softmax cross-entropy over a named set of two batches, as the diagnostics define it.
Parameters are flattened W0, b0, W1, b1, ... row-major (the library's order).

A ReLU MLP of the same shape and seed is written too (relu-mlp.json): its Hessian is exact where no
unit sits at a kink (almost surely at these random points), piecewise constant in between, which
central differences of gradients cannot follow across kinks but exact products (double backward)
can; the kit checks it on engines that declare exact products.

Written: conformance/src/main/resources/io/github/agnosticsam/conformance/curvature/{tanh,relu}-mlp.json
    {"name", "model": {type, layers, activation, labelSmoothing}, "params": [W0, b0, ...],
     "batches": [{"x", "y"}, ...], "loss", "gradient": [flat],
     "products": [{"v": [flat], "hv": [flat]}, ...],
     "eigenvalues": [largest, second, third] (algebraic order), "smallestEigenvalue",
     "trace", "probes": [[±1, ...], ...], "probeValues": [vᵀHv per probe],
     "rho", "rhoOneStep": L(θ + ρ·g/‖g‖) − L(θ)}

How to regenerate (Debian: apt-get install -y python3-torch):
    /usr/bin/python3 conformance/tools/generate_curvature.py
Deterministic to the last bits or so: a rerun with torch 1.13 moved some values of tanh-mlp.json in
their 16th digit (threads in the eigensolver); the committed file is kept then.
"""
import json
import os

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "main", "resources",
                   "io", "github", "agnosticsam", "conformance", "curvature")
LAYERS = [6, 8, 5]
BATCHES = [16, 12]
PRODUCTS = 3
PROBES = 12
RHO = 0.05
SEED = 19


def shapes():
    out = []
    for i in range(len(LAYERS) - 1):
        out.append((LAYERS[i + 1], LAYERS[i]))
        out.append((LAYERS[i + 1],))
    return out


def unflatten(theta):
    params, at = [], 0
    for s in shapes():
        n = 1
        for d in s:
            n *= d
        params.append(theta[at:at + n].reshape(s))
        at += n
    return params


def loss(theta, batches, activation=torch.tanh):
    params = unflatten(theta)
    total, count = 0.0, 0
    for x, y in batches:
        h = x
        for i in range(0, len(params), 2):
            h = F.linear(h, params[i], params[i + 1])
            if i + 2 < len(params):
                h = activation(h)
        total = total + F.cross_entropy(h, y, reduction="mean") * len(y)
        count += len(y)
    return total / count


def main():
    write("tanh", torch.tanh, SEED)
    write("relu", torch.relu, SEED)


def write(activation_name, activation, seed):
    g = torch.Generator().manual_seed(seed)
    theta = torch.cat([(torch.randn(s, generator=g) * 0.6).reshape(-1) for s in shapes()])
    batches = [(torch.randn(n, LAYERS[0], generator=g), torch.randint(0, LAYERS[-1], (n,), generator=g))
               for n in BATCHES]
    f = lambda t: loss(t, batches, activation)

    value = f(theta)
    t = theta.clone().requires_grad_(True)
    gradient = torch.autograd.grad(f(t), t)[0]
    hessian = torch.autograd.functional.hessian(f, theta)
    hessian = (hessian + hessian.T) / 2
    eigenvalues = torch.linalg.eigvalsh(hessian).flip(0)

    products = []
    for _ in range(PRODUCTS):
        v = torch.randn(theta.numel(), generator=g)
        hv = torch.autograd.functional.hvp(f, theta, v)[1]
        assert torch.allclose(hv, hessian @ v, rtol=1e-10, atol=1e-12)
        products.append({"v": v.tolist(), "hv": hv.tolist()})

    probes = (torch.randint(0, 2, (PROBES, theta.numel()), generator=g) * 2 - 1).to(torch.float64)
    probe_values = [float(p @ torch.autograd.functional.hvp(f, theta, p)[1]) for p in probes]

    unit = gradient / gradient.norm()
    rho_one_step = float(f(theta + RHO * unit) - value)

    params = unflatten(theta)
    case = {
        "name": "curvature-" + activation_name + "-mlp",
        "model": {"type": "mlp", "layers": LAYERS, "activation": activation_name, "labelSmoothing": 0.0},
        "params": [p.tolist() for p in params],
        "batches": [{"x": x.tolist(), "y": y.tolist()} for x, y in batches],
        "loss": float(value),
        "gradient": gradient.tolist(),
        "products": products,
        "eigenvalues": eigenvalues[:3].tolist(),
        "smallestEigenvalue": float(eigenvalues[-1]),
        "trace": float(hessian.trace()),
        "probes": [[int(e) for e in p.tolist()] for p in probes],
        "probeValues": probe_values,
        "rho": RHO,
        "rhoOneStep": rho_one_step,
    }
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, activation_name + "-mlp.json")
    with open(path, "w") as out:
        json.dump(case, out, indent=1)
        out.write("\n")
    print("wrote", os.path.normpath(path), "| λ:", [round(e, 6) for e in eigenvalues[:3].tolist()],
          "| trace", round(float(hessian.trace()), 6), "| Hutchinson mean of", PROBES, "probes",
          round(sum(probe_values) / PROBES, 6), "| gap λ1/λ2", round(float(eigenvalues[0] / eigenvalues[1]), 3), "| smallest", round(float(eigenvalues[-1]), 6))


if __name__ == "__main__":
    main()
