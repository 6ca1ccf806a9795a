#!/usr/bin/python3
"""Trains the tiny CLIP that the out-of-the-box demo segments with, on the synthetic world, and exports it as
assets/tinyclip/tinyclip-synthetic.safetensors (OpenAI names, f16) with its figures in training.json.

The data (kept out of the repository; about 1 minute to generate):
  ./reclip synth --out /tmp/tinyclip-data/train --count 20000 --seed 1
  ./reclip synth --out /tmp/tinyclip-data/val --count 500 --seed 2
Then (the shipped weights: 800 steps, 36 minutes of training and 38 in all with one thread on a shared 2-core
AVX2 machine):
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp OMP_NUM_THREADS=1 /usr/bin/python3 tools/tinyclip/train.py \
      --train /tmp/tinyclip-data/train --val /tmp/tinyclip-data/val --threads 1
The result is the same for the same seed and thread count.

Recipe (docs/TINYCLIP.md): CLIP's symmetric contrastive loss between whole-image embeddings and texts over batches
of 128 pairs, at the logit scale a trained OpenAI CLIP ends with (100, kept fixed), AdamW with a linear warm-up and
a cosine decay, a fixed data order and augmentation for the seed (random horizontal flips, which keep every caption
true). With some probability a caption is replaced by one of the 85 evaluation templates of spec §2.1 filled with a
class the image shows, so that the words the segmentation pipeline prompts with are trained too, or the pair is a
region crop named by such a template. The patch embeddings get only a light contrastive term (--dense-weight 0.1):
nothing trains them in OpenAI's CLIP, and MaskCLIP's dense predictions are then a by-product, weak and biased as
they are on real CLIP weights, which is what ReCLIP++ rectifies (docs/DEMO.md). Every
--eval-every steps the MaskCLIP dense zero-shot mIoU (spec §4 value path, §2.1 Query features, §10 point 6 mIoU) is
measured on the first --eval-images val images; the checkpoint with the best value is the one exported, and it is
then measured on the whole val split.
"""
import argparse
import json
import math
import os
import random
import subprocess
import sys
import time
from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tools", "reference"))
import bpe  # noqa: E402
import clip_ref  # noqa: E402
import model as tiny  # noqa: E402
import safetensors_io  # noqa: E402

MEAN = torch.tensor([0.48145466, 0.4578275, 0.40821073]).view(1, 3, 1, 1)
STD = torch.tensor([0.26862954, 0.26130258, 0.27577711]).view(1, 3, 1, 1)
VOCABULARY = os.path.join(ROOT, "assets", "clip-bpe", "bpe_simple_vocab_16e6.txt.gz")


def read_templates():
    """The 85 templates of spec §2.1, read from the C# list so that both sides prompt with the same texts."""
    source = open(os.path.join(ROOT, "src", "Model", "ReClip", "QueryBank.cs"), encoding="utf-8").read()
    body = source[source.index("Templates =") : source.index("];", source.index("Templates ="))]
    templates = json.loads("[" + body[body.index("[") + 1 :].strip().rstrip(",") + "]")
    if len(templates) != 85:
        raise ValueError(f"QueryBank.cs: found {len(templates)} templates, expected 85")
    return templates


def fill(template, name):
    return template.replace("{}", name)


class Split:
    """A folder written by `reclip synth`: images [N,3,S,S] uint8, labels [N,S,S] uint8, captions, classes."""

    def __init__(self, folder, limit=None):
        self.classes = open(os.path.join(folder, "classes.txt"), encoding="utf-8").read().split()
        lines = [json.loads(line) for line in open(os.path.join(folder, "captions.jsonl"), encoding="utf-8")]
        lines = lines[:limit] if limit else lines
        self.ids = [line["id"] for line in lines]
        self.captions = [line["caption"] for line in lines]
        images = np.stack([np.asarray(Image.open(os.path.join(folder, "images", i + ".png")).convert("RGB")) for i in self.ids])
        self.images = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()
        labels = np.stack([np.asarray(Image.open(os.path.join(folder, "labels", i + ".png"))) for i in self.ids])
        self.labels = torch.from_numpy(labels.astype(np.int64))
        present = torch.zeros(len(self.ids), len(self.classes), dtype=torch.bool)
        present.scatter_(1, self.labels.flatten(1), True)
        self.present = present


def normalise(images):
    return (images.float() / 255 - MEAN) / STD


def check_against_cli(texts, context, ids):
    """The Python tokenizer must give the C# one's ids for every text trained or evaluated on."""
    texts = sorted(texts)
    for start in range(0, len(texts), 500):
        chunk = texts[start : start + 500]
        out = subprocess.run([os.path.join(ROOT, "reclip"), "tokenize", "--json", "--context-length", str(context)] + chunk,
                             check=True, capture_output=True, text=True).stdout
        expected = json.loads(out)
        expected = expected["tokens"] if isinstance(expected, dict) else expected
        for text, row in zip(chunk, expected):
            ours = [t for t in ids[text] if t != 0]
            if ours != row:
                raise ValueError(f"tokenizer differs from `reclip tokenize` on '{text}': {ours} vs {row}")
    return len(texts)


def query_features(model, prompt_ids, classes, templates):
    """Spec §2.1: per class the templates' embeddings, each L2-normalised, averaged, normalised again → [C, E]."""
    features = F.normalize(model.encode_text(prompt_ids), dim=-1).view(classes, templates, -1).mean(1)
    return F.normalize(features, dim=-1)


def state(model):
    return OrderedDict((k, v.detach().clone()) for k, v in model.state_dict().items())


def dense_logits(weights, images, queries, batch=50):
    """MaskCLIP dense cosine logits [B, C, h, w] (spec §4, eps 1e-6 in the visual blocks as §4.2 says)."""
    out = []
    for start in range(0, images.shape[0], batch):
        dense, _ = clip_ref.dense_image(weights, normalise(images[start : start + batch]))
        b, n, _ = dense.shape
        side = int(math.isqrt(n))
        out.append((dense @ queries.t()).transpose(1, 2).reshape(b, -1, side, side))
    return torch.cat(out)


def evaluate(model, split, count, prompt_ids, templates):
    """MaskCLIP dense mIoU (spec §10 point 6: intersections and unions summed over the split in float64,
    absent classes count 0), per-class IoU, and zero-shot accuracy: the top-1 of the whole-image embedding over
    the C Query features against the class covering the most pixels of the image."""
    model.eval()
    classes = len(split.classes)
    with torch.no_grad():
        queries = query_features(model, prompt_ids, classes, templates)
        weights = OrderedDict((k, v.detach()) for k, v in model.state_dict().items())
        images, labels = split.images[:count], split.labels[:count]
        logits = dense_logits(weights, images, queries)
        size = labels.shape[-1]
        predicted = F.interpolate(logits, size=(size, size), mode="bilinear", align_corners=False).argmax(1)
        confusion = torch.bincount(labels.flatten() * classes + predicted.flatten(), minlength=classes * classes).view(classes, classes).double()
        intersection = confusion.diagonal()
        union = confusion.sum(0) + confusion.sum(1) - intersection
        iou = torch.where(union > 0, intersection / union.clamp(min=1), torch.zeros_like(union))
        pooled = F.normalize(model.encode_image(normalise(images)), dim=-1)
        majority = torch.stack([torch.bincount(l.flatten(), minlength=classes) for l in labels]).argmax(1)
        accuracy = ((pooled @ queries.t()).argmax(1) == majority).double().mean().item()
    model.train()
    return iou.mean().item(), iou.tolist(), accuracy, confusion


def destinations(confusion, names, top=3):
    """Where each class's pixels go: the three largest shares of its row of the confusion matrix."""
    shares = confusion / confusion.sum(1, keepdim=True).clamp(min=1)
    return {names[c]: {names[p]: round(shares[c, p].item(), 3) for p in shares[c].argsort(descending=True)[:top].tolist()}
            for c in range(len(names))}


def region(split, index, image, flipped, rng, smallest, largest):
    """A region caption: a square crop around a class the scene shows (class uniform over those shown, so small
    things are cropped as often as large surfaces), scaled back to the full input size, paired with a template
    naming a class. A class whose extent fits in the largest crop is framed whole with a margin of 10-50 % and
    named (an object photo); a larger one gets a crop of random side around one of its pixels, named by the class
    covering most of it. Returns (image, class)."""
    labels = split.labels[index].flip(-1) if flipped else split.labels[index]
    size = labels.shape[-1]
    shown = split.present[index].nonzero().flatten().tolist()
    chosen = rng.choice(shown)
    ys, xs = (labels == chosen).nonzero(as_tuple=True)
    extent = max(ys.max().item() - ys.min().item(), xs.max().item() - xs.min().item()) + 1
    framed = extent * 1.1 <= largest
    if framed:
        side = min(largest, max(smallest // 2, round(extent * rng.uniform(1.1, 1.5))))
        cy, cx = (ys.min().item() + ys.max().item()) // 2, (xs.min().item() + xs.max().item()) // 2
    else:
        side = rng.randint(smallest, largest)
        pick = rng.randrange(len(ys))
        cy, cx = ys[pick].item(), xs[pick].item()
    top = min(max(0, cy - side // 2), size - side)
    left = min(max(0, cx - side // 2), size - side)
    crop = image[:, top : top + side, left : left + side].float().unsqueeze(0)
    scaled = F.interpolate(crop, size=(size, size), mode="bilinear", align_corners=False).round().clamp(0, 255).to(torch.uint8)[0]
    if framed:
        return scaled, chosen
    return scaled, torch.bincount(labels[top : top + side, left : left + side].flatten(), minlength=len(split.classes)).argmax().item()


def contrastive(model, image_features, text_features):
    """CLIP's symmetric cross-entropy over the batch's cosine matrix scaled by exp(logit_scale)."""
    logits = model.logit_scale.exp() * F.normalize(image_features, dim=-1) @ text_features.t()
    target = torch.arange(logits.shape[0])
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target)) / 2


def cosine_rate(step, steps, warmup, peak):
    if step < warmup:
        return peak * (step + 1) / warmup
    return 0.5 * peak * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))


def export(weights, path):
    """f16 tensors in OpenAI's names; logit_scale stays f32 (a scalar, and its exp is what the loss used)."""
    half = OrderedDict((k, v if k == "logit_scale" else v.half()) for k, v in weights.items())
    tmp = path + ".tmp"
    safetensors_io.save(tmp, half, metadata={"format": "pt", "source": "tools/tinyclip/train.py"})
    os.replace(tmp, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", required=True)
    parser.add_argument("--val", required=True)
    parser.add_argument("--out", default=os.path.join(ROOT, "assets", "tinyclip"))
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--weight-decay", type=float, default=0.1)
    parser.add_argument("--warmup", type=int, help="linear warm-up steps (default: a tenth of --steps)")
    parser.add_argument("--template-probability", type=float, default=0.2)
    parser.add_argument("--dense-weight", type=float, default=0.1,
                        help="weight of a contrastive loss on the mean of the normalised MaskCLIP patch embeddings "
                             "(the class-token loss gets 1 minus it); OpenAI's CLIP has none, and a light one lets the small "
                             "model's patches learn every class at all (docs/TINYCLIP.md)")
    parser.add_argument("--region-probability", type=float, default=0.4,
                        help="share of pairs that are a region crop with a template naming the class it frames or mostly shows")
    parser.add_argument("--region-min", type=int, default=40)
    parser.add_argument("--region-max", type=int, default=88)
    parser.add_argument("--eval-every", type=int, default=50)
    parser.add_argument("--max-minutes", type=float, default=60,
                        help="stop early (and say so in training.json) if the machine is too slow to finish in time")
    parser.add_argument("--eval-images", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2,
                        help="torch threads; 1 when other work shares the cores (two-thread barriers stall under contention)")
    parser.add_argument("--context", type=int, default=48)
    parser.add_argument("--initial-scale", type=float, default=100,
                        help="exp(logit_scale) at step 0: 100, where a trained OpenAI CLIP ends (its clamp), which the "
                             "ReCLIP++ loss multiplies by (spec §4.6, §7); CLIP starts from 1/0.07")
    parser.add_argument("--learn-scale", action="store_true",
                        help="learn logit_scale from --initial-scale (clamped to ln 100) instead of keeping it")
    args = parser.parse_args()
    if args.warmup is None:
        args.warmup = args.steps // 10

    started = time.time()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)

    train, val = Split(args.train), Split(args.val)
    if train.classes != val.classes:
        raise ValueError(f"{args.train} and {args.val} name different classes")
    classes, names = len(train.classes), train.classes
    templates = read_templates()
    tokenizer = bpe.Tokenizer(VOCABULARY)
    prompts = [fill(t, n) for n in names for t in templates]
    texts = sorted(set(train.captions) | set(val.captions) | set(prompts))
    ids = {text: tokenizer.context(text, args.context) for text in texts}
    checked = check_against_cli(texts, args.context, ids)
    longest = max(sum(1 for t in row if t) for row in ids.values())
    print(f"{len(train.ids)} train / {len(val.ids)} val images, {checked} texts tokenised as the C# CLI does, "
          f"longest {longest} of {args.context} tokens ({time.time() - started:.0f} s)", flush=True)
    caption_ids = torch.tensor([ids[c] for c in train.captions])
    prompt_ids = torch.tensor([ids[p] for p in prompts]).view(classes, len(templates), -1)

    config = tiny.Config(context=args.context)
    model = tiny.TinyClip(config)
    with torch.no_grad():
        model.logit_scale.fill_(math.log(args.initial_scale))
    model.logit_scale.requires_grad_(args.learn_scale)
    decayed = [p for n, p in model.named_parameters() if p.ndim >= 2 and "embedding" not in n]
    kept = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "embedding" not in n)]
    optimiser = torch.optim.AdamW([{"params": decayed, "weight_decay": args.weight_decay}, {"params": kept, "weight_decay": 0.0}],
                                  lr=args.lr, betas=(0.9, 0.98), eps=1e-6)
    flat_prompts = prompt_ids.view(-1, args.context)
    history, best = [], None
    order, cursor = torch.randperm(len(train.ids)), 0
    train_started = time.time()
    stopped = None
    for step in range(args.steps + 1):
        late = time.time() - started > 60 * args.max_minutes - 90
        if step % args.eval_every == 0 or step == args.steps or late:
            miou, _, accuracy, _ = evaluate(model, val, args.eval_images, flat_prompts, len(templates))
            history.append({"step": step, "seconds": round(time.time() - train_started, 1), "miou": miou, "accuracy": accuracy})
            print(f"step {step}: dense mIoU {miou:.4f}, zero-shot accuracy {accuracy:.3f} ({time.time() - train_started:.0f} s)", flush=True)
            if best is None or miou > best[1]:
                best = (step, miou, state(model))
        if step == args.steps or late:
            stopped = step if late else None
            break
        if cursor + args.batch > len(order):
            order, cursor = torch.randperm(len(train.ids)), 0
        batch = order[cursor : cursor + args.batch]
        cursor += args.batch
        images = train.images[batch]
        flips = torch.rand(len(batch)) < 0.5
        images[flips] = images[flips].flip(-1)
        tokens = caption_ids[batch].clone()
        for row, index in enumerate(batch.tolist()):
            draw = rng.random()
            if draw < args.region_probability:
                images[row], named = region(train, index, images[row], flips[row].item(), rng, args.region_min, args.region_max)
                tokens[row] = prompt_ids[named, rng.randrange(len(templates))]
            elif draw < args.region_probability + args.template_probability:
                shown = train.present[index].nonzero().flatten().tolist()
                tokens[row] = prompt_ids[rng.choice(shown), rng.randrange(len(templates))]
        for group in optimiser.param_groups:
            group["lr"] = cosine_rate(step, args.steps, args.warmup, args.lr)
        text_features = F.normalize(model.encode_text(tokens), dim=-1)
        if args.dense_weight > 0:
            pooled, patches = model.encode_image(normalise(images), dense=True)
            loss = (1 - args.dense_weight) * contrastive(model, pooled, text_features) \
                + args.dense_weight * contrastive(model, F.normalize(patches, dim=-1).mean(1), text_features)
        else:
            loss = contrastive(model, model.encode_image(normalise(images)), text_features)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        if step % 50 == 0:
            print(f"step {step}: loss {loss.item():.4f} ({time.time() - train_started:.0f} s)", flush=True)
    train_seconds = time.time() - train_started

    best_step, _, weights = best
    model.load_state_dict(weights)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "tinyclip-synthetic.safetensors")
    export(weights, path)
    # The figures of the exported (f16-rounded) weights on the whole val split.
    model.load_state_dict(OrderedDict((k, v.half().float() if k != "logit_scale" else v) for k, v in weights.items()))
    miou, per_class, accuracy, confusion = evaluate(model, val, len(val.ids), flat_prompts, len(templates))
    figures = {
        "data": {"train_images": len(train.ids), "val_images": len(val.ids)},
        "config": vars(config),
        "recipe": {k: v for k, v in vars(args).items() if k not in ("train", "val", "out")},
        "steps": args.steps,
        "stopped_early_at": stopped,
        "train_seconds": round(train_seconds, 1),
        "total_seconds": round(time.time() - started, 1),
        "best_step": best_step,
        "selection_miou": round(best[1], 4),
        "val_miou": round(miou, 4),
        "val_iou": {n: round(v, 4) for n, v in zip(names, per_class)},
        "val_zero_shot_accuracy": round(accuracy, 4),
        "val_predicted_as": destinations(confusion, names),
        "history": history,
        "bytes": os.path.getsize(path),
    }
    with open(os.path.join(args.out, "training.json"), "w", encoding="utf-8") as f:
        json.dump(figures, f, indent=1)
        f.write("\n")
    print(json.dumps({k: v for k, v in figures.items() if k != "history"}, indent=1))


if __name__ == "__main__":
    main()
