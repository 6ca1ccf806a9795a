#!/usr/bin/python3
"""Reference of ReCLIP++'s test-time path (spec §10 steps 1-5) for the MaskCLIP baseline on the tiny CLIP of
clip_ref.py, for the C# Segmenter test.

Run:  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3 tools/reference/segment_ref.py
Writes tests/fixtures/reclip/segment.safetensors:
  image        uint8 [H', W', 3]  an RGB image already at its test size (the keep-ratio resize is the identity at
               a short side equal to the image's; C# resizing is tested on its own), 37 x 50: the ViT zero-pads it
               to 40 x 56 (a multiple of the patch, 8 here), a 5 x 7 grid
  query        [C, E]             unit rows, C = 5
  logits       [C, h, w]          O = F·Tᵀ on the patch grid, before the filter
  maxima       [C]                max over patches of softmax(10·O) per class
  threshold    [1]                a PD threshold halfway between two class maxima, so some classes are removed
  kept         int32 [C]          1 where the class survives the filter
  upsampled    [C, H, W]          filtered O bilinear to (H', W') then to the label size (H, W) = (45, 61)
  prediction   int32 [H, W]       argmax of softmax(upsampled); prediction_nopd the same without the filter
Everything runs in float64 (the image is normalised from its bytes in float64) and is rounded to f32 once.
"""
import os
import sys
from collections import OrderedDict

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clip_ref  # noqa: E402
import safetensors_io  # noqa: E402

CLASSES = 5
RESIZED = (37, 50)
LABEL = (45, 61)
# The dataset configs' IMG_NORM_CFG (spec §1.3 step 6, §1.4): CLIP's statistics in 0..255 units, to three decimals.
MEAN = torch.tensor([122.771, 116.746, 104.094], dtype=torch.float64)
STD = torch.tensor([68.501, 66.632, 70.323], dtype=torch.float64)
PD_SCALE = 10.0   # MaskCLIP's softmax(10·O)
REMOVED = -100.0


def upsample_predict(o):
    """Spec §10 steps 4-5: bilinear (align_corners=False) to the resized size, then to the label size, softmax, argmax."""
    x = F.interpolate(o.unsqueeze(0), size=RESIZED, mode="bilinear", align_corners=False)
    x = F.interpolate(x, size=LABEL, mode="bilinear", align_corners=False)[0]
    return x, x.softmax(0).argmax(0).int()


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = os.path.join(root, "tests", "fixtures", "reclip")
    w = clip_ref.make_weights()
    torch.manual_seed(11)
    # A smooth image with some texture, so neighbouring patches differ but are not noise.
    ys = torch.linspace(0, 1, RESIZED[0]).view(-1, 1, 1)
    xs = torch.linspace(0, 1, RESIZED[1]).view(1, -1, 1)
    base = torch.tensor([200.0, 60.0, 120.0]) * ys + torch.tensor([30.0, 180.0, 90.0]) * xs
    image = (base + torch.rand(*RESIZED, 3) * 40).clamp(0, 255).round().to(torch.uint8)
    query = torch.randn(CLASSES, clip_ref.EMBED).double()
    query = query / query.norm(dim=1, keepdim=True)

    with torch.no_grad():
        x = ((image.double() - MEAN) / STD).permute(2, 0, 1).unsqueeze(0)
        dense, _ = clip_ref.dense_image(w, x)
        _, h, wd = clip_ref.patch_tokens(w, x)
        o = (dense[0] @ query.t()).t().reshape(CLASSES, h, wd)
        maxima = (PD_SCALE * o).reshape(CLASSES, -1).softmax(0).max(1).values
        ordered = maxima.sort().values
        threshold = (ordered[1] + ordered[2]) / 2
        kept = maxima >= threshold
        filtered = o.clone()
        filtered[~kept] = REMOVED
        upsampled, prediction = upsample_predict(filtered)
        _, prediction_nopd = upsample_predict(o)

    d = OrderedDict()
    d["image"] = image
    d["query"] = query
    d["logits"] = o
    d["maxima"] = maxima
    d["threshold"] = threshold.reshape(1)
    d["kept"] = kept.int()
    d["upsampled"] = upsampled
    d["prediction"] = prediction
    d["prediction_nopd"] = prediction_nopd
    path = os.path.join(out, "segment.safetensors")
    safetensors_io.save(path, OrderedDict((k, v.float() if v.is_floating_point() else v) for k, v in d.items()),
                        metadata={"grid_rows": h, "grid_columns": wd})
    print(f"wrote {path}: {os.path.getsize(path)} bytes; grid {h}x{wd}; maxima {maxima.tolist()}; "
          f"threshold {threshold.item():.6f}; kept {kept.int().tolist()}")


if __name__ == "__main__":
    main()
