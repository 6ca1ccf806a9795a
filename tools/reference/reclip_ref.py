#!/usr/bin/python3
"""Reference ReCLIP++ training step (spec §2.1, §2.2, §5–§7, §9) on the tiny CLIP of clip_ref.py, for the C#
parity test of ReClip.Model.ReClip.ReClipHead.

Run:  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3 tools/reference/reclip_ref.py
Writes tests/fixtures/reclip/step.safetensors (deterministic, ~0.2 MB): the inputs of one step (dense features F,
positional grid, Query features T and the token ids they come from, hypotheses, the initial trainable tensors,
explicit Gumbel noise, lr), the intermediates (Q, P, R, rectified logits, decoder output O, mask), the loss, the
gradient of every trainable tensor, and the tensors and BN running statistics after one SGD step; the same for the
paper's bias ablations (spec §11), prefixed "class.", "space." and "none." (no bias, their control).

Everything runs in float64 autograd; every input is rounded to f32 first (and used as that f32 value), so the
C# step starts from exactly the same numbers and the reference's own rounding is negligible. The Gumbel noise
is drawn here and passed to both sides: PyTorch's generator cannot be reproduced in C#.
With `--f32-spread` it writes nothing and prints how far PyTorch's own float32 step is from its float64 step.
"""
import os
import sys
from collections import OrderedDict

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clip_ref  # noqa: E402
import safetensors_io  # noqa: E402

BATCH, IMAGE, CLASSES, PROMPTS = 3, 32, 4, 3
GUMBEL_SCALE = 100.0  # §6.5: a constant in the code
MOMENTUM, WEIGHT_DECAY, LR = 0.9, 5e-4, 0.1
BN_EPS, BN_MOMENTUM = 1e-5, 0.1
# Class names as BPE token lists of the tiny vocabulary: 1, 2, 4 and 1 tokens (spec §2.2 slot rule).
NAME_TOKENS = [[5], [17, 250], [40, 290, 3, 7], [296]]
# Hypotheses per image (§8); the empty one adds 0 to the loss but counts in B (§7).
HYPOTHESES = [[0, 2], [], [3, 1, 2]]


def f32(x):
    return x.float().double()


def slot_ids(tokens, eot):
    """clip.tokenize(name)[0][1:4]: the first three of ids ‖ EOT ‖ 0 …"""
    return [(t + [eot, 0, 0])[:3] for t in tokens]


def query_bank(w, ids):
    """Spec §2.1: per class, mean of the L2-normalised embeddings of its K prompts, L2-normalised. ids [C, K, L]."""
    c, k, length = ids.shape
    e = clip_ref.encode_text(w, ids.reshape(c * k, length))
    e = e / e.norm(dim=-1, keepdim=True)
    t = e.reshape(c, k, -1).mean(1)
    return t / t.norm(dim=-1, keepdim=True)


def decoder_input(w, feats, grid, text, slots, params, rows, cols, bias="both"):
    """Q, R, P, Q − P·Rᵀ and the decoder's input [F ; Rect] (spec §4.5, §2.2, §5, §6.1). bias "class" or "space" is the
    paper's ablation of each bias (spec §11): P averaged over the patches, or R over the classes, broadcast back;
    "none" its control, no bias."""
    b, n, e = feats.shape
    c = text.shape[0]
    q = feats @ text.t()                                           # [B, N, C], §4.5
    raw = clip_ref.encode_prompt(w, params["prompt"], slots)      # [C, E], §2.2
    r = raw / raw.norm()                                          # Frobenius, inside the graph
    dv = grid.shape[1]
    p = F.conv2d(grid.t().reshape(1, dv, rows, cols), params["pe_proj.weight"], params["pe_proj.bias"])
    p = p.reshape(e, n).t()                                       # [N, E], §5
    bias_p = p.mean(0, keepdim=True).expand(n, e) if bias == "class" else p
    bias_r = r.mean(0, keepdim=True).expand(c, e) if bias == "space" else r
    # "none", the ablation's control, subtracts nothing (the product kept in the graph: its gradients are then 0).
    rect = q - (0 if bias == "none" else 1) * bias_p @ bias_r.t()  # [B, N, C], §6.1
    x = torch.cat([feats.transpose(1, 2), rect.transpose(1, 2)], 1).reshape(b, e + c, rows, cols)
    return q, r, p, rect, x


def infer(w, feats, grid, text, slots, params, running_mean, running_var, rows, cols, bias="both"):
    """Inference (spec §10 step 2): BatchNorm with its running statistics, no Gumbel sampling. O [B, C, h, w]."""
    x = decoder_input(w, feats, grid, text, slots, params, rows, cols, bias)[4]
    conv = F.conv2d(x, params["decoder_conv2.weight"], params["decoder_conv2.bias"], padding=2)
    return F.batch_norm(conv, running_mean, running_var, params["decoder_norm2.weight"], params["decoder_norm2.bias"],
                        training=False, eps=BN_EPS)


def step(w, feats, grid, text, slots, hyps, noise, params, rows, cols, bias="both"):
    """One forward of spec §13 with autograd; params: dict of leaf tensors. Returns the loss and intermediates."""
    b, n, e = feats.shape
    c = text.shape[0]
    q, r, p, rect, x = decoder_input(w, feats, grid, text, slots, params, rows, cols, bias)
    conv = F.conv2d(x, params["decoder_conv2.weight"], params["decoder_conv2.bias"], padding=2)
    running_mean = torch.zeros(c, dtype=feats.dtype)
    running_var = torch.ones(c, dtype=feats.dtype)
    o = F.batch_norm(conv, running_mean, running_var, params["decoder_norm2.weight"], params["decoder_norm2.bias"],
                     training=True, momentum=BN_MOMENTUM, eps=BN_EPS)
    logits = o.reshape(b, c, n).transpose(1, 2)                   # [B, N, C]
    y_soft = torch.softmax(GUMBEL_SCALE * logits + noise, dim=-1)  # τ = 1
    index = y_soft.argmax(-1, keepdim=True)
    y_hard = torch.zeros_like(y_soft).scatter_(-1, index, 1.0)
    mask = y_hard - y_soft.detach() + y_soft                      # straight-through, §6.5
    total = 0
    for j, s in enumerate(hyps):
        if not s:
            continue
        pooled = torch.stack([(mask[j, :, i, None] * feats[j]).mean(0) for i in s])   # [|S|, E], mean over all N
        z = w["logit_scale"].exp() * pooled @ text.t()           # §7: exp of the CLIP's own logit scale
        total = total + F.cross_entropy(z, torch.tensor(s))
    loss = total / b
    return loss, dict(q=q, reference=r, positional=p, rectified=rect, output=o, mask=mask,
                      running_mean=running_mean, running_var=running_var)


def inputs():
    """The tiny CLIP's weights and every input of the step, f32-exact, from fixed seeds."""
    w = clip_ref.make_weights()
    vocab, length = w["token_embedding.weight"].shape[0], w["positional_embedding"].shape[0]
    sot, eot = vocab - 2, vocab - 1
    torch.manual_seed(1234)

    images = torch.randn(BATCH, 3, IMAGE, IMAGE).double()
    with torch.no_grad():
        feats, grid = clip_ref.dense_image(w, images)
    feats, grid = f32(feats), f32(grid)
    rows = cols = IMAGE // int(w["visual.conv1.weight"].shape[-1])

    ids = torch.zeros(CLASSES, PROMPTS, length, dtype=torch.long)
    for c in range(CLASSES):
        for k in range(PROMPTS):
            count = int(torch.randint(1, length - 2, ()).item())
            ids[c, k, 0] = sot
            ids[c, k, 1:1 + count] = torch.randint(0, vocab - 2, (count,))
            ids[c, k, 1 + count] = eot
    with torch.no_grad():
        text = f32(query_bank(w, ids))

    slots = torch.tensor(slot_ids(NAME_TOKENS, eot))
    m, dt = length - 4, w["token_embedding.weight"].shape[1]
    e, dv = feats.shape[2], grid.shape[1]
    # Initial tensors: the spec's distributions, with the context and BN moved off their deterministic
    # initial values (row 0 copied, γ = 1, β = 0) so that the parity test sees distinct rows and affine terms.
    init = OrderedDict()
    init["prompt"] = w["token_embedding.weight"][0].expand(m, dt) + 0.1 * torch.randn(m, dt).double()
    bound = dv ** -0.5
    init["pe_proj.weight"] = (torch.rand(e, dv, 1, 1).double() * 2 - 1) * bound
    init["pe_proj.bias"] = (torch.rand(e).double() * 2 - 1) * bound
    init["decoder_conv2.weight"] = torch.randn(CLASSES, e + CLASSES, 5, 5).double() * (2 / (25 * CLASSES)) ** 0.5
    init["decoder_conv2.bias"] = (torch.rand(CLASSES).double() * 2 - 1) * (25 * (e + CLASSES)) ** -0.5
    init["decoder_norm2.weight"] = 1 + 0.1 * torch.randn(CLASSES).double()
    init["decoder_norm2.bias"] = 0.1 * torch.randn(CLASSES).double()
    init = OrderedDict((k, f32(v)) for k, v in init.items())
    u = torch.rand(BATCH, rows * cols, CLASSES).double().clamp(1e-12, 1 - 1e-12)
    noise = f32(-torch.log(-torch.log(u)))

    return w, feats, grid, ids, text, slots, init, noise, rows, cols


def f32_spread():
    """PyTorch's own float32 step against its float64 step: the max-relative gradient differences that bound what an
    f32 implementation can reach (quoted by the C# parity test's tolerance)."""
    w, feats, grid, ids, text, slots, init, noise, rows, cols = inputs()
    grads = {}
    for dtype in (torch.float64, torch.float32):
        cast = OrderedDict((k, v.to(dtype)) for k, v in w.items())
        params = OrderedDict((k, v.to(dtype).clone().requires_grad_(True)) for k, v in init.items())
        loss, _ = step(cast, feats.to(dtype), grid.to(dtype), text.to(dtype), slots, HYPOTHESES, noise.to(dtype), params, rows, cols)
        loss.backward()
        grads[dtype] = {k: v.grad.double() for k, v in params.items()}
    for k, reference in grads[torch.float64].items():
        difference = (grads[torch.float32][k] - reference).abs().max()
        print(f"{k}: max |f32 - f64| {difference.item():.3g}, relative to max |f64| {(difference / reference.abs().max()).item():.3g}")


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = os.path.join(root, "tests", "fixtures", "reclip")
    os.makedirs(out, exist_ok=True)
    w, feats, grid, ids, text, slots, init, noise, rows, cols = inputs()

    d = OrderedDict()
    d["features"] = feats
    d["grid"] = grid
    d["query_ids"] = ids.int()
    d["query"] = text
    d["slots"] = slots.int()
    hyp = torch.full((BATCH, CLASSES), -1, dtype=torch.int32)
    for j, s in enumerate(HYPOTHESES):
        hyp[j, :len(s)] = torch.tensor(s, dtype=torch.int32)
    d["hypotheses"] = hyp
    d["noise"] = noise
    d["lr"] = torch.tensor([LR], dtype=torch.float64)
    for k, v in init.items():
        d["init." + k] = v
    # The method's step, then the ablations' (their entries prefixed "class.", "space." and "none."), from the same inputs.
    for bias in ("both", "class", "space", "none"):
        prefix = "" if bias == "both" else bias + "."
        params = OrderedDict((k, v.clone().requires_grad_(True)) for k, v in init.items())
        loss, inter = step(w, feats, grid, text, slots, HYPOTHESES, noise, params, rows, cols, bias)
        loss.backward()
        for k in ("q", "reference", "positional") if bias == "both" else ():
            d[k] = inter[k].detach()
        for k in ("rectified", "output", "mask"):
            d[prefix + k] = inter[k].detach()
        d[prefix + "loss"] = loss.detach().reshape(1)
        for k, v in params.items():
            d[prefix + "grad." + k] = v.grad
        # One SGD step (spec §9), the first: buf = g + wd·θ, θ ← θ − lr·buf.
        for k, v in params.items():
            d[prefix + "after." + k] = v.detach() - LR * (v.grad + WEIGHT_DECAY * v.detach())
        d[prefix + "after.running_mean"] = inter["running_mean"]
        d[prefix + "after.running_var"] = inter["running_var"]
        after = OrderedDict((k, d[prefix + "after." + k]) for k in params)
        with torch.no_grad():
            d[prefix + "eval_output"] = infer(w, feats, grid, text, slots, after, inter["running_mean"], inter["running_var"], rows, cols, bias)
        if bias == "both":
            print(f"loss {loss.item():.6f}")
    path = os.path.join(out, "step.safetensors")
    safetensors_io.save(path, OrderedDict((k, v.float() if v.is_floating_point() else v) for k, v in d.items()),
                        metadata={"rows": rows, "columns": cols, "gumbel_scale": GUMBEL_SCALE,
                                  "logit_scale": w["logit_scale"].exp().item()})
    print(f"wrote {path}: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    if sys.argv[1:] == ["--f32-spread"]:
        f32_spread()
    else:
        main()
