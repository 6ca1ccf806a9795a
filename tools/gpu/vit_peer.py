"""The PyTorch peer of `reclip bench --device cuda` on the same card: CLIP ViT-B/16's image tower, stock (encode_image)
and MaskCLIP dense (spec §4), with random weights from tools/reference/clip_ref.py, in PyTorch eager with SDPA attention,
float32 (TF32 off, as our cuBLAS GEMMs) and bfloat16. Prints one JSON object: images/s per (precision, path, batch).
Usage: python3 vit_peer.py --size 224 --batch 64 256 [--seconds 3] [--device cpu]  (cpu: a smoke test of the script)"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import clip_ref  # noqa: E402

EPS, VISUAL_EPS = 1e-5, 1e-6


def attention(w, p, x):
    b, t, d = x.shape
    heads = d // 64
    qkv = F.linear(x, w[p + "attn.in_proj_weight"], w[p + "attn.in_proj_bias"])
    q, k, v = (z.reshape(b, t, heads, 64).transpose(1, 2) for z in qkv.split(d, dim=-1))
    if hasattr(F, "scaled_dot_product_attention"):
        o = F.scaled_dot_product_attention(q, k, v)
    else:  # PyTorch < 2.0 (a CPU smoke test of this script): the same product, unfused
        o = (q @ k.transpose(-1, -2) / math.sqrt(64)).softmax(-1) @ v
    o = o.transpose(1, 2).reshape(b, t, d)
    return F.linear(o, w[p + "attn.out_proj.weight"], w[p + "attn.out_proj.bias"])


def mlp(w, p, x):
    h = F.linear(x, w[p + "mlp.c_fc.weight"], w[p + "mlp.c_fc.bias"])
    return F.linear(h * torch.sigmoid(1.702 * h), w[p + "mlp.c_proj.weight"], w[p + "mlp.c_proj.bias"])


def ln(w, p, x, eps):
    return F.layer_norm(x, w[p + "weight"].shape, w[p + "weight"], w[p + "bias"], eps)


def embed(w, image):
    tokens, h, wd = clip_ref.patch_tokens(w, image)
    cls = w["visual.class_embedding"].expand(tokens.shape[0], 1, -1)
    pe = torch.cat([w["visual.positional_embedding"][:1], clip_ref.positional_grid(w, h, wd)], 0)
    return ln(w, "visual.ln_pre.", torch.cat([cls, tokens], 1) + pe, EPS)


def pooled(w, image, layers):
    x = embed(w, image)
    for i in range(layers):
        p = f"visual.transformer.resblocks.{i}."
        x = x + attention(w, p, ln(w, p + "ln_1.", x, EPS))
        x = x + mlp(w, p, ln(w, p + "ln_2.", x, EPS))
    return ln(w, "visual.ln_post.", x[:, 0], EPS) @ w["visual.proj"]


def dense(w, image, layers):
    x = embed(w, image)
    for i in range(layers - 1):
        p = f"visual.transformer.resblocks.{i}."
        x = x + attention(w, p, ln(w, p + "ln_1.", x, VISUAL_EPS))
        x = x + mlp(w, p, ln(w, p + "ln_2.", x, VISUAL_EPS))
    p, d = f"visual.transformer.resblocks.{layers - 1}.", x.shape[-1]
    v = F.linear(ln(w, p + "ln_1.", x, VISUAL_EPS), w[p + "attn.in_proj_weight"][2 * d:], w[p + "attn.in_proj_bias"][2 * d:])
    v = x + F.linear(v, w[p + "attn.out_proj.weight"], w[p + "attn.out_proj.bias"])
    v = v + mlp(w, p, ln(w, p + "ln_2.", v, VISUAL_EPS))
    out = ln(w, "visual.ln_post.", v, EPS)[:, 1:] @ w["visual.proj"]
    return out / out.norm(dim=-1, keepdim=True)


def images_per_second(run, batch, seconds, device):
    def finish():
        if device.type == "cuda":
            torch.cuda.synchronize()
    for _ in range(3):
        run()
    finish()
    calls, start = 0, time.perf_counter()
    while calls < 5 or time.perf_counter() - start < seconds:
        run()
        finish()
        calls += 1
    return batch * calls / (time.perf_counter() - start)


def kernel_times(run):
    """GPU time per kernel name of one call, the largest first (the counterpart of our bench's dense_kernel_times)."""
    from torch.profiler import ProfilerActivity, profile
    run()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        run()
        torch.cuda.synchronize()
    totals = {}
    for event in prof.events():
        if event.device_type == torch.autograd.DeviceType.CUDA:
            calls, ms = totals.get(event.name, (0, 0.0))
            totals[event.name] = (calls + 1, ms + event.time_range.elapsed_us() / 1000.0)
    rows = [{"name": name, "calls": calls, "milliseconds": ms} for name, (calls, ms) in totals.items()]
    return sorted(rows, key=lambda r: -r["milliseconds"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batch", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--device", default="cuda")
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    base = clip_ref.make_weights(VISION_WIDTH=768, VISION_LAYERS=12, PATCH=16, IMAGE=224, TEXT_WIDTH=512, TEXT_LAYERS=12,
                                 CONTEXT=77, VOCAB=49408, EMBED=512, seed=16)
    base = {k: v for k, v in base.items() if k.startswith("visual.")}
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    results = {"device": name, "torch": torch.__version__, "size": args.size, "images_per_second": {}}
    for dtype in (torch.float32, torch.bfloat16):
        w = {k: v.to(device, dtype) for k, v in base.items()}
        for batch in args.batch:
            image = torch.randn(batch, 3, args.size, args.size, device=device, dtype=dtype)
            with torch.no_grad():
                for path_name, path in (("dense", dense), ("pooled", pooled)):
                    rate = images_per_second(lambda: path(w, image, 12), batch, args.seconds, device)
                    results["images_per_second"][f"{str(dtype).split('.')[-1]}_{path_name}_b{batch}"] = rate
                if device.type == "cuda":
                    key = "kernel_times" if dtype == torch.float32 else "bfloat16_kernel_times"
                    results.setdefault(key, {})[f"b{batch}"] = kernel_times(lambda: dense(w, image, 12))
            del image
            if device.type == "cuda":
                torch.cuda.empty_cache()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
