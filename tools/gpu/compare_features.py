"""Largest differences between two `reclip features --json` outputs (the CPU's and a GPU's): pooled image
embeddings, text embeddings and dense maps. Exit 1 when one exceeds the tolerance: both sides compute in float32,
the GPU with other summation orders (cuBLAS, tiled attention), so ~1e-5 relative on O(1) values is rounding, not a bug."""
import sys

from reports import load

TOLERANCE = 1e-4


def flat(value):
    if isinstance(value, list):
        for item in value:
            yield from flat(item)
    else:
        yield value


def main(cpu_path, gpu_path):
    cpu, gpu = load(cpu_path), load(gpu_path)
    if cpu is None or gpu is None:
        return 1
    worst = 0.0
    for key in ("image", "text", "dense"):
        a, b = list(flat(cpu.get(key) or [])), list(flat(gpu.get(key) or []))
        if len(a) != len(b):
            print(f"{key}: {len(a)} values on the CPU, {len(b)} on the GPU")
            return 1
        diff = max((abs(x - y) / (1 + abs(x)) for x, y in zip(a, b)), default=0.0)
        worst = max(worst, diff)
        print(f"{key}: {len(a)} values, max |cpu - gpu| / (1 + |cpu|) = {diff:.2e}")
    print("parity:", "ok" if worst <= TOLERANCE else f"FAILED (tolerance {TOLERANCE:g})")
    return 0 if worst <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
