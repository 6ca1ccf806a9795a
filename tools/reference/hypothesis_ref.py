#!/usr/bin/python3
"""Reference multi-label hypothesis (spec §8) on the tiny CLIP of clip_ref.py, for the C# parity test of
ReClip.Model.ReClip.Hypothesis.

Run:  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3 tools/reference/hypothesis_ref.py
Reads tests/fixtures/clip/weights_openai.safetensors; writes tests/fixtures/hypothesis/windows.safetensors
(a few KB): the test image (uint8 [H, W, 3]), the Query bank T [C, E], and per (window, stride) setting the
logits 100·f·Tᵀ of every window [N, C], their top-1 class and the hypothesis.

Spec §8 as the authors' script does it: PIL crop of each window in raster order, CLIP's preprocessing
(torchvision Resize(n, BICUBIC) + CenterCrop(n) on the PIL window: PIL's own bicubic; the square window makes
the crop the identity), ToTensor, CLIP mean/std, the stock encode_image of clip_ref.py, L2-normalise, logits,
top-1, distinct classes in order of first appearance. The authors run in fp16; this runs in float64 so that
the C# float32 result is compared with the exact one. The window settings exercise up-sampling (20 px → 24) and
down-sampling (30 px → 24, PIL's widened kernel). Some rows of T are the features of chosen windows, so the
windows do not all pick the same class; the script checks that every top-1 wins by a clear margin.
"""
import os
import sys
from collections import OrderedDict

import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clip_ref  # noqa: E402
import safetensors_io  # noqa: E402

WIDTH, HEIGHT = 70, 45
SETTINGS = [(20, 9), (30, 13)]
CLASSES = 6
MEAN = torch.tensor([0.48145466, 0.4578275, 0.40821073], dtype=torch.float64)
STD = torch.tensor([0.26862954, 0.26130258, 0.27577711], dtype=torch.float64)
MIN_MARGIN = 0.05  # logits; far above the C# float32 error (~1e-4), so the top-1 comparison is exact


def picture():
    """Four flat colour regions with noise and a bright disc, so that windows see different content."""
    g = torch.Generator().manual_seed(11)
    y, x = torch.meshgrid(torch.arange(HEIGHT), torch.arange(WIDTH), indexing="ij")
    colours = torch.tensor([[200, 40, 30], [30, 160, 60], [40, 60, 210], [230, 220, 90]], dtype=torch.float64)
    region = (y >= HEIGHT // 2).long() * 2 + (x >= WIDTH // 2).long()
    image = colours[region] + torch.randn(HEIGHT, WIDTH, 3, generator=g, dtype=torch.float64) * 25
    disc = (y - 15) ** 2 + (x - 48) ** 2 < 81
    image[disc] = 250.0
    return image.round().clamp(0, 255).to(torch.uint8)


def windows(width, height, w, s):
    return [(x, y) for y in range(0, height - w, s) for x in range(0, width - w, s)]


def clip_input(pil, n):
    """torchvision's Resize(n) + CenterCrop(n) on a PIL image (the rules written out: torchvision is not installed)."""
    wd, ht = pil.size
    short, long = min(wd, ht), max(wd, ht)
    size = (n, int(n * long / short)) if wd <= ht else (int(n * long / short), n)
    resized = pil.resize(size, Image.BICUBIC)
    left, top = int(round((size[0] - n) / 2.0)), int(round((size[1] - n) / 2.0))
    cropped = resized.crop((left, top, left + n, top + n))
    pixels = torch.frombuffer(bytearray(cropped.tobytes()), dtype=torch.uint8).reshape(n, n, 3).double() / 255
    return ((pixels - MEAN) / STD).permute(2, 0, 1)


def features(w, pil, size, wd, s):
    boxes = windows(pil.size[0], pil.size[1], wd, s)
    batch = torch.stack([clip_input(pil.crop((x, y, x + wd, y + wd)), size) for x, y in boxes])
    f = clip_ref.encode_image(w, batch)
    return f / f.norm(dim=-1, keepdim=True)


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    weights = safetensors_io.load(os.path.join(root, "tests", "fixtures", "clip", "weights_openai.safetensors"))
    w = {k: v.double() for k, v in weights.items()}
    size = int(w["visual.conv1.weight"].shape[-1]) * int(round((w["visual.positional_embedding"].shape[0] - 1) ** 0.5))
    image = picture()
    pil = Image.fromarray(image.numpy(), "RGB")

    torch.manual_seed(5)
    with torch.no_grad():
        chosen = features(w, pil, size, *SETTINGS[0])[[0, 7, 13, 16]]
        bank = torch.cat([chosen, torch.randn(CLASSES - len(chosen), chosen.shape[1], dtype=torch.float64)])
        bank = (bank / bank.norm(dim=-1, keepdim=True)).float()
        d = OrderedDict(image=image, bank=bank)
        for wd, s in SETTINGS:
            logits = 100 * features(w, pil, size, wd, s) @ bank.double().t()
            best = logits.topk(2, dim=-1).values
            margin = (best[:, 0] - best[:, 1]).min().item()
            assert margin > MIN_MARGIN, f"window {wd}: a top-1 wins by only {margin}"
            top = logits.argmax(-1)
            hypothesis = list(dict.fromkeys(top.tolist()))
            print(f"window {wd} stride {s}: {len(top)} windows, hypothesis {hypothesis}, smallest margin {margin:.3f}")
            d[f"w{wd}.setting"] = torch.tensor([wd, s], dtype=torch.int32)
            d[f"w{wd}.logits"] = logits.float()
            d[f"w{wd}.top"] = top.int()
            d[f"w{wd}.hypothesis"] = torch.tensor(hypothesis, dtype=torch.int32)
    out = os.path.join(root, "tests", "fixtures", "hypothesis")
    os.makedirs(out, exist_ok=True)
    safetensors_io.save(os.path.join(out, "windows.safetensors"), d)


if __name__ == "__main__":
    main()
