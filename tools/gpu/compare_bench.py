"""Ours against the PyTorch peer on one card, from the files tools/gpu/run.sh wrote into OUT: bench-cuda-b*.json
(`reclip bench --device cuda --json`) and peer.json (vit_peer.py). Prints images/s of each and the speed-up
(ours / PyTorch) at the same precision: float32, and bfloat16 (ours: bfloat16 linear weights, GEMM inputs and attention
products, float32 accumulation and residual stream; PyTorch's: everything in bfloat16)."""
import glob
import os
import sys

from reports import load


def kernel_table(title, times, rows):
    """The first `rows` kernels of a profile (name, calls, milliseconds; largest first) under its total."""
    total = sum(t["milliseconds"] for t in times)
    print(f"  {title}: {total:.2f} ms")
    for t in times[:rows]:
        print(f"    {t['name'][:58]:<58} {t['calls']:5d} {t['milliseconds']:9.3f} ms {100 * t['milliseconds'] / (total or 1.0):5.1f}%")


def main(out):
    peer = load(os.path.join(out, "peer.json"))
    if peer is None:
        return 1
    rates = peer["images_per_second"]
    print(f"{'case':<24} {'ours img/s':>11} {'torch img/s':>11} {'speed-up':>9}")
    for path in sorted(glob.glob(os.path.join(out, "bench-cuda-b*.json"))):
        ours = load(path)
        if ours is None:
            continue
        batch = ours["batch"]
        for name in ("dense", "pooled"):
            for precision, key in (("float32", f"{name}_images_per_second"), ("bfloat16", f"{name}_b_float16_images_per_second")):
                mine, theirs = ours[key], rates.get(f"{precision}_{name}_b{batch}")
                ratio = f"{mine / theirs:9.2f}" if theirs else f"{'-':>9}"
                print(f"{name + ' ' + precision + ' b' + str(batch):<24} {mine:11.1f} {theirs or 0:11.1f} {ratio}")
        # Relative to the largest feature, rounding moves the features by a few 1e-3 (1.3e-3 for the CPU form of the
        # same rounding); a wrong bfloat16 kernel by O(1).
        deviation = ours.get("dense_b_float16_deviation")
        if deviation is not None:
            verdict = "ok" if deviation < 0.05 else "TOO FAR: a bfloat16 kernel is wrong"
            print(f"{'bfloat16 vs float32 b' + str(batch):<24} {deviation:11.2e} of the largest dense feature, at most ({verdict})")
        print(f"{'gemm ' + str(ours['gemm_size']):<24} {ours['gemm_gflops']:9.0f} GFLOP/s (cuBLAS float32)")
        print(f"{'segmentation, training':<24} {ours['segmentation_images_per_second']:.2f} images/s, {ours['training_steps_per_second']:.2f} steps/s "
              f"({ours['size']} px, {ours['classes']} classes, towers and head on the GPU)")
        kernel_table(f"ours: GPU time of one dense float32 b{batch} batch", ours.get("dense_kernel_times") or [], 12)
        kernel_table("ours: the same with bfloat16 linears", ours.get("dense_b_float16_kernel_times") or [], 8)
        step = ours.get("training_step_kernel_times") or []
        wall = 1000.0 / ours["training_steps_per_second"]
        kernel_table(f"ours: one training step, {wall:.2f} ms wall, in {sum(t['calls'] for t in step)} launches, on the GPU", step, 6)
        theirs = peer.get("kernel_times", {}).get(f"b{batch}", [])
        if theirs:
            kernel_table("torch: the same float32 batch", theirs, 12)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
