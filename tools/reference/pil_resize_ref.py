#!/usr/bin/python3
"""Reference for PIL's bicubic resize and CLIP's preprocessing (spec §8), for the C# exactness tests of
ReClip.Model.Data.PilBicubicResize and ReClip.Model.Clip.ClipImage (Preprocess, and the normalisation after it).

Run:  /usr/bin/python3 tools/reference/pil_resize_ref.py      (Pillow 9.4; PyTorch for the normalisation)
Writes tests/fixtures/pil/resize.json (a few KB). Each source image is a hash pattern of its index that the
C# test regenerates (`pattern` below), so only the outputs are stored: in full (base64) when small, otherwise
as their SHA-256. Random-looking pixels are the hard case: every overshoot of the cubic gets clamped.

CLIP's preprocessing is torchvision's Resize(n, BICUBIC) + CenterCrop(n) on a PIL image. torchvision is not
installed here, so its two rules are written out from its source: the short side becomes n and the long side
int(n * long / short); the crop offset is int(round((L - n) / 2)) (Python's round, half to even).
"""
import base64
import hashlib
import json
import os

import PIL
import torch
from PIL import Image

FULL_LIMIT = 4096  # bytes; larger outputs are stored as a digest

# (source w, h) -> (target w, h): up- and down-sampling, odd sizes, one axis only, 1-pixel edges, and the
# hypothesis windows of spec §3.1 (56, 80, 85 px) at CLIP's 224.
RESIZES = [
    ((56, 56), (224, 224)), ((85, 85), (224, 224)), ((80, 80), (224, 224)), ((300, 300), (224, 224)),
    ((500, 375), (298, 224)), ((1, 1), (1, 1)), ((1, 1), (3, 3)), ((1, 1), (224, 224)), ((2, 1), (1, 1)),
    ((1, 9), (4, 2)), ((7, 5), (3, 2)), ((5, 7), (13, 9)), ((37, 23), (16, 41)), ((9, 9), (9, 4)),
    ((9, 9), (4, 9)), ((32, 32), (24, 24)), ((16, 16), (24, 24)), ((40, 13), (40, 13)), ((3, 64), (2, 5)),
]
# (source w, h, n): CLIP's Resize(n) + CenterCrop(n) on non-square and square pictures.
PREPROCESS = [(50, 31, 24), (31, 50, 24), (33, 24, 24), (25, 40, 24), (16, 16, 24), (100, 37, 16), (3, 2, 24)]


def pattern(width, height):
    """Bytes (i * 2654435761 mod 2^32) >> 13 & 255 over the RGB bytes, i = their index: reproducible anywhere."""
    data = bytes(((i * 2654435761) % (1 << 32)) >> 13 & 255 for i in range(width * height * 3))
    return Image.frombytes("RGB", (width, height), data)


def preprocess(image, n):
    w, h = image.size
    short, long = min(w, h), max(w, h)
    new_long = int(n * long / short)
    size = (n, new_long) if w <= h else (new_long, n)
    resized = image.resize(size, Image.BICUBIC)
    left = int(round((size[0] - n) / 2.0))
    top = int(round((size[1] - n) / 2.0))
    return resized.crop((left, top, left + n, top + n))


def entry(output, **sizes):
    data = output.tobytes()
    e = dict(sizes, sha256=hashlib.sha256(data).hexdigest())
    if len(data) <= FULL_LIMIT:
        e["pixels"] = base64.b64encode(data).decode("ascii")
    return e


def clip_normalization():
    """torchvision's ToTensor + Normalize(CLIP's mean, std) on every grey level: uint8 / 255, minus the mean, divided
    by the std, in float32 (the ops torchvision runs); [256, 3] float32."""
    mean = torch.tensor([0.48145466, 0.4578275, 0.40821073], dtype=torch.float32)
    std = torch.tensor([0.26862954, 0.26130258, 0.27577711], dtype=torch.float32)
    levels = torch.arange(256, dtype=torch.uint8)[:, None].expand(256, 3).to(torch.float32).div(255)
    return levels.sub_(mean).div_(std)


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = os.path.join(root, "tests", "fixtures", "pil")
    os.makedirs(out, exist_ok=True)
    resizes = [entry(pattern(*s).resize(t, Image.BICUBIC), source=list(s), target=list(t)) for s, t in RESIZES]
    crops = []
    for w, h, n in PREPROCESS:
        result = preprocess(pattern(w, h), n)
        assert result.size == (n, n)
        crops.append(entry(result, source=[w, h], size=n))
    with open(os.path.join(out, "resize.json"), "w", newline="\n") as f:
        normalization = base64.b64encode(clip_normalization().numpy().astype("<f4").tobytes()).decode("ascii")
        json.dump({"pillow": PIL.__version__, "resize": resizes, "preprocess": crops, "clip_normalization": normalization}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
