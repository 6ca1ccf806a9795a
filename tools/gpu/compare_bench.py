"""Ours against the PyTorch peer on one card, from the files tools/gpu/run.sh wrote into OUT: bench-cuda-b*.json
(`reclip bench --device cuda --json`) and peer.json (vit_peer.py). Prints images/s of each and the speed-up
(ours / PyTorch) for the same precision; PyTorch's bfloat16 is listed too, as ours is float32 only."""
import glob
import os
import sys

from reports import load


def main(out):
    peer = load(os.path.join(out, "peer.json"))
    if peer is None:
        return 1
    rates = peer["images_per_second"]
    print(f"{'case':<24} {'ours img/s':>11} {'torch fp32':>11} {'speed-up':>9} {'torch bf16':>11}")
    for path in sorted(glob.glob(os.path.join(out, "bench-cuda-b*.json"))):
        ours = load(path)
        if ours is None:
            continue
        batch = ours["batch"]
        for name in ("dense", "pooled"):
            mine = ours[f"{name}_images_per_second"]
            fp32, bf16 = rates.get(f"float32_{name}_b{batch}"), rates.get(f"bfloat16_{name}_b{batch}")
            ratio = f"{mine / fp32:9.2f}" if fp32 else f"{'-':>9}"
            print(f"{name + ' b' + str(batch):<24} {mine:11.1f} {fp32 or 0:11.1f} {ratio} {bf16 or 0:11.1f}")
        print(f"{'gemm ' + str(ours['gemm_size']):<24} {ours['gemm_gflops']:9.0f} GFLOP/s (cuBLAS float32)")
        print(f"{'segmentation, training':<24} {ours['segmentation_images_per_second']:.2f} images/s, {ours['training_steps_per_second']:.2f} steps/s "
              f"({ours['size']} px, {ours['classes']} classes, towers on the GPU, head on the CPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
