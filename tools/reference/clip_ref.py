#!/usr/bin/python3
"""Reference CLIP (ViT image tower, causal text tower) written from the model's published equations,
plus the MaskCLIP dense path and the Reference-prompt encoding of spec §2.2/§4, for the C# parity tests.

Run:  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3 tools/reference/clip_ref.py
With `--vit-b16 DIR` it writes ViT-B/16-sized random weights and dumps into DIR instead (the C# size test
runs it on the fly, ~300 MB). Otherwise it writes tests/fixtures/clip/:
  weights_openai.safetensors   OpenAI names, f16
  weights_open_clip.pt         torch.save of a `module.`-prefixed state dict, f16 (open_clip style)
  weights_torchscript.pt       torch.jit.trace + torch.jit.save of the tiny model, f16 weights (OpenAI .pt style)
  weights_hf.safetensors       Hugging Face CLIPModel names, f16 (q/k/v split, projections transposed)
  dumps.safetensors            inputs and intermediates, f32

The tiny configuration keeps the fixtures under 5 MB: vision width 128 (2 heads) / 2 layers / patch 8 /
24 px (3×3 grid), text width 64 (1 head) / 2 layers / context 16 / vocabulary 300, embedding 64. Weights
are seeded random values rounded to f16, so every format holds them exactly; the forward runs in float64
and the dumps are rounded to f32 once, so the reference's own rounding is negligible.
"""
import math
import os
import sys
from collections import OrderedDict

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

VISION_WIDTH, VISION_LAYERS, PATCH, IMAGE = 128, 2, 8, 24
TEXT_WIDTH, TEXT_LAYERS, CONTEXT, VOCAB = 64, 2, 16, 300
EMBED = 64
SOT, EOT = VOCAB - 2, VOCAB - 1
VISUAL_EPS_MASKCLIP = 1e-6  # spec §4.2: ln_1/ln_2 of every visual block in the ReCLIP++ setting
EPS = 1e-5


def rounded(*shape, scale):
    return (torch.randn(*shape) * scale).half().double()


def ones_near(width):
    """LayerNorm gains near 1, rounded to f16 after the addition (1 + an f16 value is not one in general)."""
    return (1 + torch.randn(width) * 0.1).half().double()


def block_weights(prefix, width, weights):
    weights[prefix + "ln_1.weight"] = ones_near(width)
    weights[prefix + "ln_1.bias"] = rounded(width, scale=0.1)
    weights[prefix + "attn.in_proj_weight"] = rounded(3 * width, width, scale=width ** -0.5)
    weights[prefix + "attn.in_proj_bias"] = rounded(3 * width, scale=0.1)
    weights[prefix + "attn.out_proj.weight"] = rounded(width, width, scale=width ** -0.5)
    weights[prefix + "attn.out_proj.bias"] = rounded(width, scale=0.1)
    weights[prefix + "ln_2.weight"] = ones_near(width)
    weights[prefix + "ln_2.bias"] = rounded(width, scale=0.1)
    weights[prefix + "mlp.c_fc.weight"] = rounded(4 * width, width, scale=width ** -0.5)
    weights[prefix + "mlp.c_fc.bias"] = rounded(4 * width, scale=0.1)
    weights[prefix + "mlp.c_proj.weight"] = rounded(width, 4 * width, scale=(4 * width) ** -0.5)
    weights[prefix + "mlp.c_proj.bias"] = rounded(width, scale=0.1)


def make_weights(VISION_WIDTH=VISION_WIDTH, VISION_LAYERS=VISION_LAYERS, PATCH=PATCH, IMAGE=IMAGE,
                 TEXT_WIDTH=TEXT_WIDTH, TEXT_LAYERS=TEXT_LAYERS, CONTEXT=CONTEXT, VOCAB=VOCAB, EMBED=EMBED, seed=20260):
    torch.manual_seed(seed)
    w = OrderedDict()
    grid = IMAGE // PATCH
    w["visual.class_embedding"] = rounded(VISION_WIDTH, scale=1.0)
    w["visual.positional_embedding"] = rounded(grid * grid + 1, VISION_WIDTH, scale=0.5)
    w["visual.conv1.weight"] = rounded(VISION_WIDTH, 3, PATCH, PATCH, scale=(3 * PATCH * PATCH) ** -0.5)
    w["visual.ln_pre.weight"] = ones_near(VISION_WIDTH)
    w["visual.ln_pre.bias"] = rounded(VISION_WIDTH, scale=0.1)
    for i in range(VISION_LAYERS):
        block_weights(f"visual.transformer.resblocks.{i}.", VISION_WIDTH, w)
    w["visual.ln_post.weight"] = ones_near(VISION_WIDTH)
    w["visual.ln_post.bias"] = rounded(VISION_WIDTH, scale=0.1)
    w["visual.proj"] = rounded(VISION_WIDTH, EMBED, scale=VISION_WIDTH ** -0.5)
    w["token_embedding.weight"] = rounded(VOCAB, TEXT_WIDTH, scale=0.5)
    w["positional_embedding"] = rounded(CONTEXT, TEXT_WIDTH, scale=0.3)
    for i in range(TEXT_LAYERS):
        block_weights(f"transformer.resblocks.{i}.", TEXT_WIDTH, w)
    w["ln_final.weight"] = ones_near(TEXT_WIDTH)
    w["ln_final.bias"] = rounded(TEXT_WIDTH, scale=0.1)
    w["text_projection"] = rounded(TEXT_WIDTH, EMBED, scale=TEXT_WIDTH ** -0.5)
    w["logit_scale"] = torch.tensor(math.log(1 / 0.07)).half().double()
    return w


# ---- the equations (float64, functional, OpenAI names; sizes read from the weights) ----

def count_blocks(w, prefix):
    return 1 + max(int(k[len(prefix):].split(".")[0]) for k in w if k.startswith(prefix))


def vision_layers(w):
    return count_blocks(w, "visual.transformer.resblocks.")


def text_layers(w):
    return count_blocks(w, "transformer.resblocks.")


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


def attention(w, p, x, causal):
    """Multi-head attention with CLIP's packed in-projection; heads = width / 64."""
    b, t, d = x.shape
    heads = d // 64
    qkv = x @ w[p + "attn.in_proj_weight"].t() + w[p + "attn.in_proj_bias"]
    q, k, v = qkv.split(d, dim=-1)
    q, k, v = (z.reshape(b, t, heads, 64).transpose(1, 2) for z in (q, k, v))
    scores = q @ k.transpose(-1, -2) / math.sqrt(64)
    if causal:
        mask = torch.full((t, t), float("-inf"), dtype=x.dtype).triu(1)
        scores = scores + mask
    o = scores.softmax(-1) @ v
    o = o.transpose(1, 2).reshape(b, t, d)
    return o @ w[p + "attn.out_proj.weight"].t() + w[p + "attn.out_proj.bias"]


def mlp(w, p, x):
    h = quick_gelu(x @ w[p + "mlp.c_fc.weight"].t() + w[p + "mlp.c_fc.bias"])
    return h @ w[p + "mlp.c_proj.weight"].t() + w[p + "mlp.c_proj.bias"]


def layer_norm(w, p, x, eps):
    # The weight's shape rather than x's: a constant when the ONNX export traces this (tools/reference/export_onnx.py).
    return F.layer_norm(x, w[p + "weight"].shape, w[p + "weight"], w[p + "bias"], eps)


def block(w, p, x, causal, eps):
    x = x + attention(w, p, layer_norm(w, p + "ln_1.", x, eps), causal)
    return x + mlp(w, p, layer_norm(w, p + "ln_2.", x, eps))


def patch_tokens(w, image):
    PATCH = int(w["visual.conv1.weight"].shape[-1])
    padded_h, padded_w = -(-image.shape[2] // PATCH) * PATCH, -(-image.shape[3] // PATCH) * PATCH
    image = F.pad(image, (0, padded_w - image.shape[3], 0, padded_h - image.shape[2]))
    x = F.conv2d(image, w["visual.conv1.weight"], stride=PATCH)
    return x.flatten(2).transpose(1, 2), x.shape[2], x.shape[3]


def positional_grid(w, h, wd):
    """Spec §4.1 step 4: the grid part resized bicubically (align_corners=False) to (h, w); [h·w, D]."""
    pe = w["visual.positional_embedding"]
    g = int(math.sqrt(pe.shape[0] - 1))
    grid = pe[1:].reshape(1, g, g, -1).permute(0, 3, 1, 2)
    if (h, wd) != (g, g):
        grid = F.interpolate(grid, size=(h, wd), mode="bicubic", align_corners=False)
    return grid.permute(0, 2, 3, 1).reshape(h * wd, -1)


def encode_image(w, image, eps=EPS, record=None):
    tokens, h, wd = patch_tokens(w, image)
    if record is not None:
        record["patch_embedding"] = tokens
    cls = w["visual.class_embedding"].expand(tokens.shape[0], 1, -1)
    x = torch.cat([cls, tokens], 1) + w["visual.positional_embedding"]
    x = layer_norm(w, "visual.ln_pre.", x, EPS)
    if record is not None:
        record["ln_pre"] = x
    for i in range(vision_layers(w)):
        x = block(w, f"visual.transformer.resblocks.{i}.", x, False, eps)
        if record is not None:
            record[f"block{i}"] = x
    pooled = layer_norm(w, "visual.ln_post.", x[:, 0], EPS) @ w["visual.proj"]
    return pooled


def dense_image(w, image, class_token=None, eps=VISUAL_EPS_MASKCLIP):
    """MaskCLIP dense path (spec §4): returns the L2-normalised map [B, h·w, E] and the PE grid [h·w, D]."""
    tokens, h, wd = patch_tokens(w, image)
    cls = (w["visual.class_embedding"] if class_token is None else class_token).expand(tokens.shape[0], 1, -1)
    grid = positional_grid(w, h, wd)
    pe = torch.cat([w["visual.positional_embedding"][:1], grid], 0)
    x = layer_norm(w, "visual.ln_pre.", torch.cat([cls, tokens], 1) + pe, EPS)
    for i in range(vision_layers(w) - 1):
        x = block(w, f"visual.transformer.resblocks.{i}.", x, False, eps)
    p = f"visual.transformer.resblocks.{vision_layers(w) - 1}."
    d = x.shape[-1]
    y = layer_norm(w, p + "ln_1.", x, eps)
    v = y @ w[p + "attn.in_proj_weight"][2 * d:].t() + w[p + "attn.in_proj_bias"][2 * d:]
    v = x + v @ w[p + "attn.out_proj.weight"].t() + w[p + "attn.out_proj.bias"]
    v = v + mlp(w, p, layer_norm(w, p + "ln_2.", v, eps))
    out = layer_norm(w, "visual.ln_post.", v, EPS)[:, 1:] @ w["visual.proj"]
    return out / out.norm(dim=-1, keepdim=True), grid


def text_tower(w, x, record=None):
    for i in range(text_layers(w)):
        x = block(w, f"transformer.resblocks.{i}.", x, True, EPS)
        if record is not None:
            record[f"block{i}"] = x
    return layer_norm(w, "ln_final.", x, EPS)


def encode_text(w, ids, record=None):
    x = w["token_embedding.weight"][ids] + w["positional_embedding"]
    x = text_tower(w, x, record)
    return x[torch.arange(ids.shape[0]), ids.argmax(-1)] @ w["text_projection"]


def encode_prompt(w, context, slots):
    """Spec §2.2: SOT | M context vectors | slot ids; gather at M + 1 + argmax(slot)."""
    c = slots.shape[0]
    m = context.shape[0]
    emb = w["token_embedding.weight"]
    sot = emb.shape[0] - 2
    x = torch.cat([emb[sot].expand(c, 1, -1), context.expand(c, m, -1), emb[slots]], 1) + w["positional_embedding"]
    x = text_tower(w, x)
    return x[torch.arange(c), m + 1 + slots.argmax(-1)] @ w["text_projection"]


# ---- weight formats ----

def hugging_face_names(w):
    hf = OrderedDict()
    hf["logit_scale"] = w["logit_scale"]
    hf["vision_model.embeddings.class_embedding"] = w["visual.class_embedding"]
    hf["vision_model.embeddings.patch_embedding.weight"] = w["visual.conv1.weight"]
    hf["vision_model.embeddings.position_embedding.weight"] = w["visual.positional_embedding"]
    hf["vision_model.pre_layrnorm.weight"] = w["visual.ln_pre.weight"]
    hf["vision_model.pre_layrnorm.bias"] = w["visual.ln_pre.bias"]

    def layers(src, dst, count):
        for i in range(count):
            s, d = f"{src}.{i}.", f"{dst}.{i}."
            width = w[s + "ln_1.weight"].shape[0]
            for j, name in enumerate("qkv"):
                hf[d + f"self_attn.{name}_proj.weight"] = w[s + "attn.in_proj_weight"][j * width:(j + 1) * width]
                hf[d + f"self_attn.{name}_proj.bias"] = w[s + "attn.in_proj_bias"][j * width:(j + 1) * width]
            for ours, theirs in (("attn.out_proj", "self_attn.out_proj"), ("ln_1", "layer_norm1"), ("ln_2", "layer_norm2"),
                                 ("mlp.c_fc", "mlp.fc1"), ("mlp.c_proj", "mlp.fc2")):
                hf[d + theirs + ".weight"] = w[s + ours + ".weight"]
                hf[d + theirs + ".bias"] = w[s + ours + ".bias"]

    layers("visual.transformer.resblocks", "vision_model.encoder.layers", VISION_LAYERS)
    hf["vision_model.post_layernorm.weight"] = w["visual.ln_post.weight"]
    hf["vision_model.post_layernorm.bias"] = w["visual.ln_post.bias"]
    hf["visual_projection.weight"] = w["visual.proj"].t()
    hf["text_model.embeddings.token_embedding.weight"] = w["token_embedding.weight"]
    hf["text_model.embeddings.position_embedding.weight"] = w["positional_embedding"]
    layers("transformer.resblocks", "text_model.encoder.layers", TEXT_LAYERS)
    hf["text_model.final_layer_norm.weight"] = w["ln_final.weight"]
    hf["text_model.final_layer_norm.bias"] = w["ln_final.bias"]
    hf["text_projection.weight"] = w["text_projection"].t()
    return hf


class Traced(torch.nn.Module):
    """The tiny model as a module tree with OpenAI's parameter names, for the TorchScript archive."""

    def __init__(self, w):
        super().__init__()
        root = torch.nn.Module()
        for name, value in w.items():
            owner = root
            parts = name.split(".")
            for part in parts[:-1]:
                if not hasattr(owner, part):
                    owner.add_module(part, torch.nn.Module())
                owner = getattr(owner, part)
            owner.register_parameter(parts[-1], torch.nn.Parameter(value.float(), requires_grad=False))
        self.visual = root.visual
        self.transformer = root.transformer
        self.token_embedding = root.token_embedding
        self.ln_final = root.ln_final
        self.positional_embedding = root.positional_embedding
        self.text_projection = root.text_projection
        self.logit_scale = root.logit_scale

    def forward(self, image, text):
        w = dict(self.named_parameters())
        return encode_image(w, image), encode_text(w, text)


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = os.path.join(root, "tests", "fixtures", "clip")
    os.makedirs(out, exist_ok=True)
    w = make_weights()
    half = OrderedDict((k, v.half()) for k, v in w.items())
    safetensors_io.save(os.path.join(out, "weights_openai.safetensors"), half)
    safetensors_io.save(os.path.join(out, "weights_hf.safetensors"),
                        OrderedDict((k, v.half().contiguous()) for k, v in hugging_face_names(w).items()))
    torch.save(OrderedDict(("module." + k, v) for k, v in half.items()), os.path.join(out, "weights_open_clip.pt"))

    torch.manual_seed(7)
    image24 = torch.randn(2, 3, IMAGE, IMAGE).double()
    image_odd = torch.randn(1, 3, 20, 36).double()
    image_large = torch.randn(1, 3, 40, 40).double()
    ids = torch.zeros(3, CONTEXT, dtype=torch.long)
    for row, n in enumerate((3, 7, CONTEXT - 2)):
        ids[row, 0] = SOT
        ids[row, 1:1 + n] = torch.randint(0, VOCAB - 2, (n,))
        ids[row, 1 + n] = EOT
    m, classes = CONTEXT - 4, 4
    context = rounded(m, TEXT_WIDTH, scale=0.5)
    slots = torch.tensor([[5, EOT, 0], [17, 250, EOT], [40, 290, 3], [296, 2, 1]])
    target = torch.randn(classes, EMBED).double()

    with torch.no_grad():
        traced_in = (image24.float(), ids)
        model = Traced(w).eval()
        traced = torch.jit.trace(model, traced_in, check_trace=False)
        for _, parameter in traced.named_parameters():
            parameter.data = parameter.data.half()
        torch.jit.save(traced, os.path.join(out, "weights_torchscript.pt"))

    d = OrderedDict()
    d["image24"] = image24
    d["image_odd"] = image_odd
    d["image_large"] = image_large
    record = {}
    with torch.no_grad():
        d["pooled"] = encode_image(w, image24, EPS, record)
        for k, v in record.items():
            d["vision." + k] = v
        d["pooled_eps6"] = encode_image(w, image24, VISUAL_EPS_MASKCLIP)
        for name, image in (("dense24", image24), ("dense_odd", image_odd), ("dense_large", image_large)):
            dense, grid = dense_image(w, image)
            d[name] = dense
            d[name + ".grid"] = grid
        class_token = rounded(VISION_WIDTH, scale=1.0)
        d["class_token"] = class_token
        d["dense24_class_token"], _ = dense_image(w, image24, class_token)
        d["text_ids"] = ids.int()
        trecord = {}
        d["text"] = encode_text(w, ids, trecord)
        for k, v in trecord.items():
            d["text." + k] = v
    d["prompt_context"] = context
    d["prompt_slots"] = slots.int()
    d["prompt_target"] = target
    ctx = context.clone().requires_grad_(True)
    features = encode_prompt(w, ctx, slots)
    loss = (features * target).sum()
    loss.backward()
    d["prompt_features"] = features.detach()
    d["prompt_context_grad"] = ctx.grad
    safetensors_io.save(os.path.join(out, "dumps.safetensors"),
                        OrderedDict((k, v.float() if v.is_floating_point() else v) for k, v in d.items()),
                        metadata={"sot": SOT, "eot": EOT, "visual_eps": VISUAL_EPS_MASKCLIP})
    total = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    print(f"wrote {out}: {total} bytes")


def vit_b16(out):
    """ViT-B/16-sized random weights (OpenAI layout, f16) and float64 dumps in `out`, for the C# size test."""
    os.makedirs(out, exist_ok=True)
    w = make_weights(VISION_WIDTH=768, VISION_LAYERS=12, PATCH=16, IMAGE=224, TEXT_WIDTH=512, TEXT_LAYERS=12,
                     CONTEXT=77, VOCAB=49408, EMBED=512, seed=16)
    safetensors_io.save(os.path.join(out, "weights.safetensors"), OrderedDict((k, v.half()) for k, v in w.items()))
    torch.manual_seed(17)
    d = OrderedDict()
    image = torch.randn(1, 3, 224, 224).double()
    image_odd = torch.randn(1, 3, 232, 200).double()
    ids = torch.zeros(2, 77, dtype=torch.long)
    ids[:, 0] = 49406
    ids[0, 1:4] = torch.tensor([320, 1125, 539])
    ids[0, 4] = 49407
    ids[1, 1:9] = torch.randint(0, 49406, (8,))
    ids[1, 9] = 49407
    context = rounded(73, 512, scale=0.02)
    slots = torch.tensor([[1929, 49407, 0], [3075, 11187, 1284], [2368, 5046, 49407]])
    target = torch.randn(3, 512).double()
    with torch.no_grad():
        d["image"] = image
        d["pooled"] = encode_image(w, image)
        d["image_odd"] = image_odd
        d["dense_odd"], d["dense_odd.grid"] = dense_image(w, image_odd)
        d["text_ids"] = ids.int()
        d["text"] = encode_text(w, ids)
    d["prompt_context"] = context
    d["prompt_slots"] = slots.int()
    d["prompt_target"] = target
    ctx = context.clone().requires_grad_(True)
    features = encode_prompt(w, ctx, slots)
    (features * target).sum().backward()
    d["prompt_features"] = features.detach()
    d["prompt_context_grad"] = ctx.grad
    safetensors_io.save(os.path.join(out, "dumps.safetensors"),
                        OrderedDict((k, v.float() if v.is_floating_point() else v) for k, v in d.items()))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--vit-b16":
        vit_b16(sys.argv[2])
    else:
        main()
