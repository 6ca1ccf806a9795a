#!/usr/bin/python3
"""Writes tests/fixtures/tinyclip/dense.safetensors: what the shipped tiny CLIP gives for one synthetic val image
under MaskCLIP's dense path, computed by tools/reference/clip_ref.py in float64 from the f16 weights, for
tests/Model/TinyClipAssetTests.cs.

  ./reclip synth --out /tmp/tinyclip-data/val --count 500 --seed 2
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3 tools/tinyclip/fixture.py /tmp/tinyclip-data/val

The image is the first of the split that shows a thing and whose per-patch best class leads the runner-up by
at least MARGIN everywhere, so that an f32 forward cannot flip an argmax. Tensors: queries_head [C, 8] (the
first 8 dimensions of the spec §2.1 Query features), logits [h·w, C] (patch cosines with them), argmax [h·w].
"""
import os
import sys
from collections import OrderedDict

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import train  # noqa: E402
from train import ROOT, bpe, clip_ref, safetensors_io  # noqa: E402

SEED = 2  # the val split's seed in train.py's documented commands
MARGIN = 1e-3


def main():
    folder = sys.argv[1]
    weights = OrderedDict((k, v.double()) for k, v in
                          safetensors_io.load(os.path.join(ROOT, "assets", "tinyclip", "tinyclip-synthetic.safetensors")).items())
    context = weights["positional_embedding"].shape[0]
    tokenizer = bpe.Tokenizer(train.VOCABULARY)
    names = open(os.path.join(folder, "classes.txt"), encoding="utf-8").read().split()
    templates = train.read_templates()
    ids = torch.tensor([tokenizer.context(train.fill(t, n), context) for n in names for t in templates])
    with torch.no_grad():
        text = clip_ref.encode_text(weights, ids)
        queries = torch.nn.functional.normalize(
            torch.nn.functional.normalize(text, dim=-1).view(len(names), len(templates), -1).mean(1), dim=-1)
        for index in range(500):
            stem = f"{index:06d}"
            labels = np.asarray(Image.open(os.path.join(folder, "labels", stem + ".png")))
            if labels.max() <= 4:
                continue
            rgb = np.asarray(Image.open(os.path.join(folder, "images", stem + ".png")).convert("RGB"))
            image = torch.from_numpy(rgb.copy()).permute(2, 0, 1)[None]
            dense, _ = clip_ref.dense_image(weights, train.normalise(image).double())
            logits = dense[0] @ queries.t()
            top = logits.topk(2, dim=-1).values
            if (top[:, 0] - top[:, 1]).min() >= MARGIN:
                break
        else:
            raise SystemExit(f"{folder}: no image with a thing and a margin of {MARGIN} at every patch")
    out = os.path.join(ROOT, "tests", "fixtures", "tinyclip")
    os.makedirs(out, exist_ok=True)
    dump = OrderedDict([("queries_head", queries[:, :8].float()), ("logits", logits.float()),
                        ("argmax", logits.argmax(-1).int())])
    safetensors_io.save(os.path.join(out, "dense.safetensors"), dump, metadata={"seed": SEED, "index": index})
    print(f"image {index} (seed {SEED}): classes {sorted(set(labels.flatten().tolist()))}, "
          f"patch argmax {logits.argmax(-1).tolist()}")


if __name__ == "__main__":
    main()
