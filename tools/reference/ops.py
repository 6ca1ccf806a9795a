#!/usr/bin/env python3
"""Writes the PyTorch reference dumps of every op into tests/fixtures/ops/<op>.safetensors.

Each module in tools/reference/ops/ defines dump(save) and calls save(name, tensors, metadata) once
per op; tensors are named "<case>.<what>" (inputs, outputs, gradients), metadata holds each case's
sizes and parameters. Inputs are seeded, so the files are the same on every run.

Run: /usr/bin/python3 tools/reference/ops.py   (Debian's python3-torch, CPU, float32/float64)
"""
import importlib
import os
import pkgutil
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import safetensors_io  # noqa: E402

OUT = os.path.normpath(os.path.join(HERE, "..", "..", "tests", "fixtures", "ops"))


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    only = set(sys.argv[1:])
    package = os.path.join(HERE, "ops")
    for info in sorted(pkgutil.iter_modules([package]), key=lambda m: m.name):
        if only and info.name not in only:
            continue
        module = importlib.import_module(f"ops.{info.name}")

        def save(name, tensors, metadata):
            path = os.path.join(OUT, f"{name}.safetensors")
            safetensors_io.save(path, tensors, metadata)
            print(f"{path}: {len(tensors)} tensors, {os.path.getsize(path)} bytes")

        module.dump(save)


if __name__ == "__main__":
    main()
