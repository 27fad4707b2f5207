#!/usr/bin/env python3
"""Golden numbers for the reference engine's BatchNorm MLP and CNN, from PyTorch in float64.

The values are fixed integer patterns (no random generator), so the Java test rebuilds exactly the
same doubles: fill(count, salt)[k] = ((k*7919 + salt*104729) % 1000) / 1000 - 0.5. Each gradient
and statistics tensor is reduced to one number, the probe sum sum_j t[j] * probe(j) with
probe(j) = ((j*31 + 17) % 23) / 23 - 0.4, which changes when any single element is wrong.

Usage (Debian: apt-get install -y python3-torch):
    /usr/bin/python3 conformance/tools/reference_models_golden.py
prints the numbers that ReferenceModelsMatchPyTorchTest holds; CI does not need PyTorch.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def fill(count, salt, scale=1.0, offset=0.0):
    return torch.tensor([offset + scale * (((k * 7919 + salt * 104729) % 1000) / 1000 - 0.5)
                         for k in range(count)])


def probe(t):
    flat = t.detach().reshape(-1)
    weights = torch.tensor([((j * 31 + 17) % 23) / 23 - 0.4 for j in range(flat.numel())])
    return float((flat * weights).sum())


def show(name, value):
    print(f"{name} = {value!r}")


def bn_mlp(name, layers, activation, smoothing, n):
    """Dense without bias -> BatchNorm1d -> activation per hidden layer; the last layer dense with bias."""
    modules = []
    salt = 1
    for i in range(len(layers) - 2):
        dense = nn.Linear(layers[i], layers[i + 1], bias=False)
        bn = nn.BatchNorm1d(layers[i + 1], momentum=0.1, eps=1e-5)
        with torch.no_grad():
            dense.weight.copy_(fill(layers[i + 1] * layers[i], salt).reshape(layers[i + 1], layers[i]))
            bn.weight.copy_(fill(layers[i + 1], salt + 1, 0.5, 1.0))
            bn.bias.copy_(fill(layers[i + 1], salt + 2, 0.3))
            bn.running_mean.copy_(fill(layers[i + 1], salt + 3, 0.2))
            bn.running_var.copy_(fill(layers[i + 1], salt + 4, 0.5, 1.0))
        salt += 5
        modules += [dense, bn, nn.ReLU() if activation == "relu" else nn.Tanh()]
    last = nn.Linear(layers[-2], layers[-1])
    with torch.no_grad():
        last.weight.copy_(fill(layers[-1] * layers[-2], salt).reshape(layers[-1], layers[-2]))
        last.bias.copy_(fill(layers[-1], salt + 1, 0.1))
    modules.append(last)
    model = nn.Sequential(*modules)
    x = fill(n * layers[0], 99, 2.0).reshape(n, layers[0])
    y = torch.tensor([(3 * i + 1) % layers[-1] for i in range(n)])

    model.train()
    loss = F.cross_entropy(model(x), y, label_smoothing=smoothing)
    loss.backward()
    show(f"{name}.loss", loss.item())
    params = [p for m in modules for p in m.parameters(recurse=False)]
    for i, p in enumerate(params):
        show(f"{name}.grad[{i}]", probe(p.grad))
    stats = [t for m in modules if isinstance(m, nn.BatchNorm1d) for t in (m.running_mean, m.running_var)]
    for i, s in enumerate(stats):
        show(f"{name}.statistics[{i}]", probe(s))
    model.eval()  # with the statistics the train pass just moved
    with torch.no_grad():
        logits = model(x)
    show(f"{name}.evalLoss", F.cross_entropy(logits, y, label_smoothing=smoothing).item())
    show(f"{name}.evalLogits", probe(logits))


def cnn(name, size, c1, c2, classes, n, ties):
    """With ties, whole pooling windows of the first ReLU tie above zero, and the tied positions
    see different input columns through kernel columns of weight 0: torch sends the gradient to the
    first maximum in row-major window order, and another choice would change conv1's gradient."""
    conv1 = nn.Conv2d(1, c1, 5, padding=2)
    conv2 = nn.Conv2d(c1, c2, 5, padding=2)
    flat = c2 * (size // 4) ** 2
    dense = nn.Linear(flat, classes)
    with torch.no_grad():
        conv1.weight.copy_(fill(c1 * 25, 1, 1.0).reshape(c1, 1, 5, 5))
        if ties:
            conv1.weight[:, :, :, 0] = 0
            conv1.weight[:, :, :, 4] = 0
        conv1.bias.copy_(fill(c1, 2, 0.2, 1.0 if ties else 0.0))
        conv2.weight.copy_(fill(c2 * c1 * 25, 3, 0.5).reshape(c2, c1, 5, 5))
        conv2.bias.copy_(fill(c2, 4, 0.2))
        dense.weight.copy_(fill(classes * flat, 5, 2.0).reshape(classes, flat))
        dense.bias.copy_(fill(classes, 6, 0.1))
    if ties:
        # Constant where the zero-weight columns are not read, 3 in the outer columns.
        x = torch.ones(n, 1, size, size)
        x[:, :, :, 0] = 3
        x[:, :, :, size - 1] = 3
    else:
        x = fill(n * size * size, 7, 1.0, 0.5).reshape(n, 1, size, size)
    y = torch.tensor([(2 * i + 1) % classes for i in range(n)])
    h = F.max_pool2d(F.relu(conv1(x)), 2)
    h = F.max_pool2d(F.relu(conv2(h)), 2)
    logits = dense(h.flatten(1))
    loss = F.cross_entropy(logits, y)
    loss.backward()
    show(f"{name}.loss", loss.item())
    for i, p in enumerate([conv1.weight, conv1.bias, conv2.weight, conv2.bias, dense.weight, dense.bias]):
        show(f"{name}.grad[{i}]", probe(p.grad))


bn_mlp("bnRelu", [5, 6, 4, 3], "relu", 0.1, 6)
bn_mlp("bnTanh", [4, 5, 3], "tanh", 0.0, 5)
cnn("cnn", 8, 2, 3, 3, 2, False)
cnn("cnnTies", 8, 2, 3, 3, 1, True)
