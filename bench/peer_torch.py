#!/usr/bin/env python3
"""The PyTorch side of bench/compare.py: the same workloads as bench/CompareCases.cs, run eagerly in float32.

Line protocol on stdin/stdout: prints "ready <case> ...", then answers each "CASE REPEATS" with
"ok <ms> <ms> ..." (one time per repeat, after a warm-up on first use) and "peak" with "ok <MiB>", the peak
resident size since the last case was set up. Run by compare.py, not by hand.
"""
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "reference"))
import authors_step  # noqa: E402  (one ReCLIP++ training step as the authors' code computes it)
import clip_ref  # noqa: E402  (our PyTorch CLIP, written from the model's equations)

_clip = {}


def clip_weights():
    """Random ViT-B/16-size weights in float32, made once per process."""
    if not _clip:
        w = clip_ref.make_weights(VISION_WIDTH=768, VISION_LAYERS=12, PATCH=16, IMAGE=224, TEXT_WIDTH=512,
                                  TEXT_LAYERS=12, CONTEXT=77, VOCAB=49408, EMBED=512)
        _clip.update({k: v.float() for k, v in w.items()})
    return _clip


def dense_image(size):
    w = clip_weights()
    image = torch.rand(1, 3, size, size) * 2 - 1
    return lambda: clip_ref.dense_image(w, image)


def text(prompts):
    w = clip_weights()
    ids = torch.zeros(prompts, 77, dtype=torch.long)
    for p in range(prompts):
        ids[p, 0] = 49406
        ids[p, 1:9] = torch.arange(1000 + p * 8 + 1, 1000 + p * 8 + 9)
        ids[p, 9] = 49407
    return lambda: clip_ref.encode_text(w, ids)


def reference_prompt(classes):
    """The authors' way: every class's full 77-token sequence through the text tower (no prefix sharing)."""
    w = clip_weights()
    context = torch.zeros(73, 512)
    slots = torch.tensor([[2000 + c, 49407, 0] for c in range(classes)])
    return lambda: clip_ref.encode_prompt(w, context, slots)


def sgemm(m, n, k, weight_layout):
    """C = A·B, or A·Wᵀ with W [n, k] for the ViT's linear layers (the layout nn.Linear uses)."""
    generator = torch.Generator().manual_seed(0)
    a = torch.rand(m, k, generator=generator) * 2 - 1
    b = torch.rand((n, k) if weight_layout else (k, n), generator=generator) * 2 - 1
    out = torch.empty(m, n)
    if weight_layout:
        return lambda: torch.matmul(a, b.t(), out=out)
    return lambda: torch.matmul(a, b, out=out)


def linear(rows, outputs, inputs):
    """A linear layer with a frozen weight [out, in] and a bias: what CLIP's blocks run."""
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(rows, inputs, generator=generator) * 2 - 1
    weight = torch.rand(outputs, inputs, generator=generator) * 2 - 1
    bias = torch.rand(outputs, generator=generator) * 2 - 1
    return lambda: torch.nn.functional.linear(x, weight, bias)


def block(size, piece):
    """One ViT-B/16 block at batch 1 (width 768, 12 heads) at 224, 336 or 448 px (197, 442 or 785 tokens), or one op of it, as
    clip_ref runs them."""
    generator = torch.Generator().manual_seed(0)
    tokens, width = 1 + (size // 16) ** 2, 768
    if piece == "block":
        w = clip_weights()
        x = torch.rand(1, tokens, width, generator=generator) * 2 - 1
        return lambda: clip_ref.block(w, "visual.transformer.resblocks.0.", x, False, clip_ref.VISUAL_EPS_MASKCLIP)
    if piece == "layernorm":
        x, gamma, beta = (torch.rand(*shape, generator=generator) * 2 - 1 for shape in ((1, tokens, width), (width,), (width,)))
        return lambda: torch.nn.functional.layer_norm(x, (width,), gamma, beta, clip_ref.VISUAL_EPS_MASKCLIP)
    if piece == "attention":
        q, k, v = ((torch.rand(1, tokens, width, generator=generator) * 2 - 1).reshape(1, tokens, 12, 64).transpose(1, 2)
                   for _ in range(3))
        return lambda: ((q @ k.transpose(-1, -2) / 8).softmax(-1) @ v).transpose(1, 2).reshape(1, tokens, width)
    x = torch.rand(1, tokens, 4 * width, generator=generator) * 2 - 1
    return lambda: clip_ref.quick_gelu(x)


CASES = {
    "sgemm_2048": lambda: sgemm(2048, 2048, 2048, False),
    "sgemm_vit224_qkv": lambda: sgemm(197, 2304, 768, True),
    "sgemm_vit224_fc1": lambda: sgemm(197, 3072, 768, True),
    "sgemm_vit224_fc2": lambda: sgemm(197, 768, 3072, True),
    "sgemm_vit336_qkv": lambda: sgemm(442, 2304, 768, True),
    "sgemm_vit336_fc1": lambda: sgemm(442, 3072, 768, True),
    "sgemm_vit336_fc2": lambda: sgemm(442, 768, 3072, True),
    "sgemm_vit448_qkv": lambda: sgemm(785, 2304, 768, True),
    "sgemm_vit448_fc1": lambda: sgemm(785, 3072, 768, True),
    "sgemm_vit448_fc2": lambda: sgemm(785, 768, 3072, True),
    "linear_vit224_qkv": lambda: linear(197, 2304, 768),
    "linear_vit224_fc1": lambda: linear(197, 3072, 768),
    "linear_vit224_fc2": lambda: linear(197, 768, 3072),
    "vit224_b1": lambda: dense_image(224),
    "vit336_b1": lambda: dense_image(336),
    "vit448_b1": lambda: dense_image(448),
    "text20": lambda: text(20),
    "text171": lambda: text(171),
    "refprompt20_prefix": lambda: reference_prompt(20),
    **{f"block{size}{suffix}": (lambda size=size, piece=piece: block(size, piece))
       for size in (224, 336, 448)
       for suffix, piece in (("", "block"), ("_layernorm", "layernorm"), ("_attention", "attention"), ("_quickgelu", "quickgelu"))},
    "train_step_voc336": lambda: authors_step.training_step(clip_weights(), 336, 20, (3, 7)),
}


_peak = {"reset": False}


def reset_peak():
    """Sets VmHWM back to the current resident size ("5" to clear_refs, Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        _peak["reset"] = True
    except OSError:
        _peak["reset"] = False


def peak_mebibytes():
    """This process's peak resident size (VmHWM) since the last case was set up, as the C# side reports it."""
    if _peak["reset"]:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    return float("nan")


def main():
    torch.set_num_threads(int(os.environ.get("RECLIP_THREADS", os.cpu_count() or 1)))
    prepared = {}
    print("ready " + " ".join(CASES), flush=True)
    with torch.no_grad():
        for line in sys.stdin:
            words = line.split()
            if not words:
                continue
            if words[0] == "quit":
                break
            if words[0] == "peak":
                print(f"ok {peak_mebibytes():.1f}", flush=True)
                continue
            if words[0] not in CASES:
                print(f"error unknown case {words[0]}", flush=True)
                continue
            repeats = int(words[1]) if len(words) > 1 else 5
            if words[0] not in prepared:
                reset_peak()
                prepared[words[0]] = CASES[words[0]]()
                for _ in range(2 if words[0].startswith(("vit", "text", "refprompt", "train")) else 3):
                    prepared[words[0]]()
            run = prepared[words[0]]
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                run()
                times.append((time.perf_counter() - start) * 1e3)
            print("ok " + " ".join(f"{t:.4f}" for t in times), flush=True)


if __name__ == "__main__":
    main()
