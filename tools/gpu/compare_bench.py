"""Ours against the PyTorch peer on one card, from the files tools/gpu/run.sh wrote into OUT: bench-cuda-b*.json
(`reclip bench --device cuda --json`) and peer.json (vit_peer.py). Prints images/s of each and the speed-up
(ours / PyTorch) at the same precision: float32, and bfloat16 (ours: bfloat16 linear weights, GEMM inputs and attention
products, float32 accumulation and residual stream; PyTorch's: everything in bfloat16), with each side's model-FLOP
utilisation against the card's datasheet peak at that precision (the same FLOPs per image for both), then the
memory-bound kernels' GB/s against the card's bandwidth."""
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


def utilisation(images_per_second, flops_per_image, tera_flops):
    """Model FLOP/s over the peak, as a percentage string; '-' without a rate or a peak."""
    if not images_per_second or not tera_flops:
        return f"{'-':>6}"
    return f"{100 * images_per_second * flops_per_image / (tera_flops * 1e12):5.1f}%"


def apart(deviation, differs):
    """How far two runs' trainable values ended after the same steps, and the verdict: the same kernels on the same data
    should end 0 apart."""
    verdict = "ok" if deviation is not None and deviation < 1e-5 else f"DIFFERS: {differs}"
    return f"{deviation:.2e} apart after the same steps ({verdict})" if deviation is not None else f"? apart ({verdict})"


def rate_row(case, mine, theirs, flops, ceiling, note=""):
    """One case's images/s on both sides, the speed-up and each side's utilisation."""
    ratio = f"{mine / theirs:9.2f}" if theirs else f"{'-':>9}"
    print(f"{case:<24} {mine:11.1f} {theirs or 0:11.1f} {ratio} {utilisation(mine, flops, ceiling):>8} {utilisation(theirs, flops, ceiling):>9}{note}")


def memory_table(ours):
    """Bytes/s of the memory-bound kernels at the tower's sizes, and their share of the card's bandwidth when known."""
    peak = ours.get("peak")
    bandwidth = peak["memory_gigabytes_per_second"] if peak else None
    print(f"  ours: memory-bound kernels" + (f" against {bandwidth:.0f} GB/s ({peak['card']})" if bandwidth else " (no datasheet bandwidth for this card)"))
    for rate in ours.get("memory_bound") or []:
        share = f"{100 * rate['gigabytes_per_second'] / bandwidth:5.1f}%" if bandwidth else ""
        print(f"    {rate['kernel']:<32} {rate['shape']:>18} {rate['milliseconds_per_call']:8.3f} ms {rate['gigabytes_per_second']:7.0f} GB/s {share}")


def main(out):
    peer = load(os.path.join(out, "peer.json"))
    if peer is None:
        return 1
    rates = peer["images_per_second"]
    print(f"{'case':<24} {'ours img/s':>11} {'torch img/s':>11} {'speed-up':>9} {'ours MFU':>8} {'torch MFU':>9}")
    for path in sorted(glob.glob(os.path.join(out, "bench-cuda-b*.json"))):
        ours = load(path)
        if ours is None:
            continue
        batch = ours["batch"]
        peak = ours.get("peak") or {}
        for name in ("dense", "pooled"):
            flops = ours.get(f"{name}_flops_per_image", 0.0)
            for precision, key, ceiling in (("float32", f"{name}_images_per_second", peak.get("float32_tera_flops")),
                                            ("bfloat16", f"{name}_b_float16_images_per_second", peak.get("b_float16_tera_flops"))):
                rate_row(f"{name} {precision} b{batch}", ours[key], rates.get(f"{precision}_{name}_b{batch}"), flops, ceiling)
        options = ours.get("options") or {}
        tuned = options.get("dense_b_float16_tuned_images_per_second")
        if tuned:
            rate_row(f"dense bf16 tuned b{batch}", tuned, rates.get(f"bfloat16_dense_b{batch}"), ours.get("dense_flops_per_image", 0.0),
                     peak.get("b_float16_tera_flops"), " (RECLIP_TUNE_GEMMS=1)")
        # Relative to the largest feature, rounding moves the features by a few 1e-3 (1.3e-3 for the CPU form of the
        # same rounding); a wrong bfloat16 kernel by O(1).
        deviation = ours.get("dense_b_float16_deviation")
        if deviation is not None:
            verdict = "ok" if deviation < 0.05 else "TOO FAR: a bfloat16 kernel is wrong"
            print(f"{'bfloat16 vs float32 b' + str(batch):<24} {deviation:11.2e} of the largest dense feature, at most ({verdict})")
        print(f"{'gemm ' + str(ours['gemm_size']):<24} {ours['gemm_gflops']:9.0f} GFLOP/s (cuBLAS float32)")
        crop = ours.get("training_size", ours["size"])
        print(f"{'segmentation, training':<24} {ours['segmentation_images_per_second']:.2f} images/s ({ours['size']} px), "
              f"{ours['training_steps_per_second']:.2f} steps/s ({crop} px crops), {ours['classes']} classes, towers and head on the GPU")
        # A replayed step runs the eager step's kernels on the same data: its values should match to the bit.
        failure = ours.get("training_graph_failure")
        if failure:
            print(f"{'cuda graph':<24} none: {failure}")
        elif "training_eager_steps_per_second" in ours:
            print(f"{'cuda graph':<24} {1000 / ours['training_steps_per_second']:.2f} ms per step against {1000 / ours['training_eager_steps_per_second']:.2f} "
                  f"without; the trainable values {apart(ours.get('training_graph_deviation'), 'the graph does not replay the eager step')}")
        if ours.get("training_b_float16_steps_per_second"):
            print(f"{'bfloat16 image tower':<24} {1000 / ours['training_b_float16_steps_per_second']:.2f} ms per training step (--image-bf16)")
        if options.get("training_overlap_steps_per_second"):
            print(f"{'overlapped towers':<24} {1000 / options['training_overlap_steps_per_second']:.2f} ms per training step (--overlap-towers); "
                  f"the trainable values {apart(options.get('training_overlap_deviation'), 'the overlapped graph does not compute the eager step')}")
        if options.get("training_tuned_steps_per_second"):
            print(f"{'tuned GEMMs':<24} {1000 / options['training_tuned_steps_per_second']:.2f} ms per training step (RECLIP_TUNE_GEMMS=1, the GEMMs' "
                  f"algorithms timed on the card)")
        if options.get("training_tensor_float32_steps_per_second"):
            with_half = options.get("training_tensor_float32_b_float16_steps_per_second")
            print(f"{'TF32 GEMMs':<24} {1000 / options['training_tensor_float32_steps_per_second']:.2f} ms per training step (--tf32)"
                  + (f", {1000 / with_half:.2f} with --image-bf16" if with_half else "")
                  + (f"; {options['training_tensor_float32_deviation']:.2e} from float32's trainable values after the same steps"
                     if options.get("training_tensor_float32_deviation") is not None else ""))
        if options.get("training_fastest_steps_per_second"):
            print(f"{'all step options':<24} {1000 / options['training_fastest_steps_per_second']:.2f} ms per training step "
                  f"(--tf32 --image-bf16 --overlap-towers; {crop} px)")
        for failure in options.get("failures") or []:
            print(f"{'option FAILED':<24} {failure}")
        memory_table(ours)
        kernel_table(f"ours: GPU time of one dense float32 b{batch} batch", ours.get("dense_kernel_times") or [], 12)
        kernel_table("ours: the same with bfloat16 linears", ours.get("dense_b_float16_kernel_times") or [], 8)
        step = ours.get("training_step_kernel_times") or []
        eager_wall = 1000.0 / ours.get("training_eager_steps_per_second", ours["training_steps_per_second"])
        kernel_table(f"ours: one training step ({crop} px) without graphs, {eager_wall:.2f} ms wall, in {sum(t['calls'] for t in step)} launches, on the GPU", step, 14)
        picture = ours.get("segmentation_kernel_times") or []
        kernel_table(f"ours: one picture's segmentation, {1000.0 / ours['segmentation_images_per_second']:.2f} ms wall, on the GPU", picture, 6)
        phases = ours.get("segmentation_phases")
        if phases:
            print(f"{'segmentation phases':<24} encode {phases['encode_milliseconds']:.2f} ms, head and denoising {phases['logits_milliseconds']:.2f} ms, "
                  f"upsampling and argmax {phases['upsampling_milliseconds']:.2f} ms (wall, each ending on the host)")
        theirs = peer.get("kernel_times", {}).get(f"b{batch}", [])
        if theirs:
            kernel_table("torch: the same float32 batch", theirs, 12)
        theirs = peer.get("bfloat16_kernel_times", {}).get(f"b{batch}", [])
        if theirs:
            kernel_table("torch: the same batch in bfloat16 (SDPA)", theirs, 12)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
