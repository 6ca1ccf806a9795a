#!/usr/bin/python3
"""Where the ReCLIP++ loss (spec §7) has its optimum on a CLIP and a synthetic split, before any training.

For each scene, with the classes its labels show (at least MIN_PIXELS pixels) as the hypothesis, on the 16-pixel patch
grid, this prints the loss of three segmentations:
  - ground truth: each patch labelled with the class covering most of it;
  - MaskCLIP: each patch's best class by cosine with the Query features (spec §4.5);
  - loss fit: the masks that minimise the loss itself, found by coordinate descent over patches from MaskCLIP's,
    each patch moved to whichever hypothesis class (or none) lowers the scene's loss most, until nothing moves.
and the patch-level mIoU of MaskCLIP, of MaskCLIP's best class within the hypothesis, and of the loss fit against
the ground truth. ReCLIP++'s decoder is trained to lower this loss, so the loss fit is about what it can reach: when
the ground truth's loss is far above the fit's and the fit's mIoU is below MaskCLIP's, no amount of training makes
ReCLIP++ beat MaskCLIP on that CLIP. When the fit lands where MaskCLIP within the hypothesis does, the loss adds
nothing to what the image-level labels say: the CLIP's pooled regions believe what its patches believe (docs/DEMO.md).

  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3 tools/tinyclip/objective.py \\
      assets/tinyclip/tinyclip-synthetic.safetensors ~/.cache/reclip/demo/train-n500-s101 --scenes 100
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train  # noqa: E402
from train import bpe, clip_ref, safetensors_io  # noqa: E402

MIN_PIXELS = 20  # a class counts as shown from this many pixels, as the demo's hypothesis quality counts it
NONE = -1  # a patch given to no hypothesis class (a class outside the hypothesis: it adds nothing to the loss)


def query_features(weights, names):
    templates = train.read_templates()
    tokenizer = bpe.Tokenizer(train.VOCABULARY)
    context = weights["positional_embedding"].shape[0]
    ids = torch.tensor([tokenizer.context(train.fill(t, n), context) for n in names for t in templates])
    text = F.normalize(clip_ref.encode_text(weights, ids), dim=-1)
    return F.normalize(text.view(len(names), len(templates), -1).mean(1), dim=-1)


def read_split(folder, count):
    files = sorted(os.listdir(os.path.join(folder, "images")))[:count]
    images = torch.stack([torch.from_numpy(np.asarray(Image.open(os.path.join(folder, "images", f)).convert("RGB")).copy())
                          .permute(2, 0, 1) for f in files])
    labels = torch.stack([torch.from_numpy(np.asarray(Image.open(os.path.join(folder, "labels", f))).astype(np.int64))
                          for f in files])
    return images, labels


def scene_loss(features, assignment, hypothesis, queries, scale):
    """Spec §7 for one scene: pooled features over all N patches (not renormalised), CE against every class."""
    total = 0.0
    for c in hypothesis:
        pooled = (features * (assignment == c).unsqueeze(1)).sum(0) / features.shape[0]
        total -= (scale * pooled @ queries.t()).log_softmax(-1)[c].item()
    return total / len(hypothesis)


def fit(features, start, hypothesis, queries, scale):
    assignment, current = start.clone(), scene_loss(features, start, hypothesis, queries, scale)
    moved = True
    while moved:
        moved = False
        for n in range(assignment.shape[0]):
            keep = assignment[n].item()
            for option in hypothesis + [NONE]:
                if option == assignment[n].item():
                    continue
                assignment[n] = option
                loss = scene_loss(features, assignment, hypothesis, queries, scale)
                if loss < current - 1e-9:
                    current, keep, moved = loss, option, True
                assignment[n] = keep
    return assignment, current


def patch_iou(truth, predicted, classes):
    keep = predicted >= 0
    confusion = torch.bincount(truth[keep] * classes + predicted[keep], minlength=classes * classes).view(classes, classes).double()
    missed = torch.bincount(truth[~keep], minlength=classes).double()
    inter = confusion.diag()
    union = confusion.sum(0) + confusion.sum(1) + missed - inter
    return torch.where(union > 0, inter / union.clamp(min=1), torch.zeros_like(union))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("weights")
    parser.add_argument("split", help="a folder written by reclip synth")
    parser.add_argument("--scenes", type=int, default=100)
    parser.add_argument("--logit-scale", type=float, help="the loss's scale (spec §7: exp of the CLIP's logit_scale, the default)")
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    weights = {k: v.float() for k, v in safetensors_io.load(args.weights).items()}
    scale = args.logit_scale or weights["logit_scale"].exp().item()
    names = open(os.path.join(args.split, "classes.txt"), encoding="utf-8").read().split()
    classes = len(names)
    images, labels = read_split(args.split, args.scenes)
    with torch.no_grad():
        queries = query_features(weights, names)
        features = torch.cat([clip_ref.dense_image(weights, train.normalise(images[s:s + 50]))[0] for s in range(0, len(images), 50)])
    scenes, patches, _ = features.shape
    side, cell = int(patches ** 0.5), labels.shape[-1] // int(patches ** 0.5)
    cells = labels.view(scenes, side, cell, side, cell).permute(0, 1, 3, 2, 4).reshape(scenes, patches, -1)
    truth = torch.stack([torch.bincount(c, minlength=256)[:classes].argmax() for c in cells.reshape(-1, cells.shape[-1])]).view(scenes, patches)
    logits = features @ queries.t()
    maskclip = logits.argmax(-1)
    losses = {"ground truth": [], "MaskCLIP": [], "loss fit": []}
    fitted, restricted, kept = [], [], []
    for s in range(scenes):
        counts = torch.bincount(labels[s].flatten(), minlength=256)[:classes]
        hypothesis = [c for c in range(classes) if counts[c] >= MIN_PIXELS]
        if not hypothesis:
            continue  # spec §7: an empty hypothesis adds nothing to the loss
        kept.append(s)
        shown = torch.zeros(classes, dtype=torch.bool)
        shown[hypothesis] = True
        restricted.append(logits[s].masked_fill(~shown, float("-inf")).argmax(-1))
        assignment, loss = fit(features[s], maskclip[s], hypothesis, queries, scale)
        fitted.append(assignment)
        losses["ground truth"].append(scene_loss(features[s], truth[s], hypothesis, queries, scale))
        losses["MaskCLIP"].append(scene_loss(features[s], maskclip[s], hypothesis, queries, scale))
        losses["loss fit"].append(loss)
    print(f"{len(kept)} scenes of {args.split}, {side}x{side} patches, weights {args.weights}, logit scale {scale:.2f}")
    for name, values in losses.items():
        print(f"mean loss of {name}: {np.mean(values):.4f}")
    for name, predicted in (("MaskCLIP", maskclip[kept]), ("MaskCLIP within the hypothesis", torch.stack(restricted)),
                            ("loss fit", torch.stack(fitted))):
        iou = patch_iou(truth[kept].flatten(), predicted.flatten(), classes)
        print(f"patch mIoU of {name}: {100 * iou.mean().item():.2f}  " + " ".join(f"{n} {100 * v:.1f}" for n, v in zip(names, iou.tolist())))


if __name__ == "__main__":
    main()
