#!/usr/bin/env python3
"""Scaling curves of our workloads: image encoder time vs input side (224–672 px) at batch 1 and 8, the Reference
prompt (spec §2.2) vs the number of classes with and without the shared prefix, and one training step (spec §13,
crop 336) vs the number of classes, each with its peak resident memory. Writes bench/results/scaling.json with
the raw figures and the charts bench/plot draws from them. Called by compare.sh --scaling.

Every case runs in a fresh bench `serve` process (compare.py's line protocol), so a case's peak resident size
(VmHWM: runtime, random ViT-B/16 weights and the case's tensors) is its own and not an earlier case's; the time is
the median of three calls after two warm-up calls (--quick: one call after one warm-up call, about a third of the
time; batch 8 at 672 px dominates either way).
"""
import argparse
import json
import os
import statistics
import time

import compare

HERE = os.path.dirname(os.path.abspath(__file__))
SIZES, BATCHES, CLASSES = (224, 336, 448, 672), (1, 8), (20, 59, 150, 171)
PATH = os.path.join(HERE, "results", "scaling.json")


def measure(ours, case, repeats, warmup):
    server, cases = compare.start(ours + ["serve"], dict(os.environ))
    try:
        if case not in cases:
            raise SystemExit(f"scaling: the bench does not know case {case}")
        times = compare.ask(server, case, repeats, warmup)
        peak = compare.ask(server, "peak")[0]
    finally:
        server.stdin.write("quit\n")
        server.stdin.close()
        server.wait()
    return statistics.median(times), peak


def charts(results):
    """What bench/plot draws: one chart per curve, time and memory apart."""
    image = {b: [(s, f"vit{s}_b{b}") for s in SIZES] for b in BATCHES}
    prompt = {mode: [(c, f"refprompt{c}_{mode}") for c in CLASSES] for mode in ("prefix", "full")}
    step = [(c, f"train_step336_c{c}") for c in CLASSES]
    out = []
    for key, what, unit in (("ms", "time", "ms"), ("peak_mib", "peak resident memory", "MiB")):
        def line(name, cases):
            """One chart line: (x, value) of each case that ran; times per image for the batched encoder."""
            return {"name": name, "points": [[x, round(results[c][key] / (batch_of(c) if key == "ms" else 1), 3)]
                                             for x, c in cases if c in results]}
        out.append({"file": f"scaling-image-{key.replace('_', '-')}.png",
                    "title": f"MaskCLIP image encoder, {what}" + (" per image" if key == "ms" else ""),
                    "x_label": "input side (px)", "y_label": unit,
                    "series": [line(f"batch {b}", image[b]) for b in BATCHES]})
        out.append({"file": f"scaling-prompt-{key.replace('_', '-')}.png", "title": f"Reference prompt, {what}",
                    "x_label": "classes", "y_label": unit,
                    "series": [line("shared prefix", prompt["prefix"]), line("full sequences", prompt["full"])]})
        out.append({"file": f"scaling-train-step-{key.replace('_', '-')}.png", "title": f"Training step (crop 336), {what}",
                    "x_label": "classes", "y_label": unit, "series": [line("ours", step)]})
    return out


def batch_of(case):
    return int(case.rsplit("_b", 1)[1]) if case.startswith("vit") else 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ours", required=True, help="command line of our bench server, e.g. 'dotnet bench.dll'")
    parser.add_argument("--quick", action="store_true", help="one warm-up and one timed call per case instead of two and three")
    parser.add_argument("--cases", nargs="*", help="only these cases")
    args = parser.parse_args()
    # Batch 8 last: its largest cases take longest, and the results so far are written after every case.
    cases = args.cases or ([f"vit{s}_b1" for s in SIZES]
                           + [f"refprompt{c}_{m}" for m in ("prefix", "full") for c in CLASSES]
                           + [f"train_step336_c{c}" for c in CLASSES]
                           + [f"vit{s}_b8" for s in SIZES])
    repeats, warmup = (1, 1) if args.quick else (3, 2)
    results = {}
    for case in cases:
        ms, peak = measure(args.ours.split(), case, repeats, warmup)
        results[case] = {"ms": round(ms, 3), "peak_mib": peak}
        print(f"{case:24s} | {ms:10.1f} ms | {peak:8.0f} MiB", flush=True)
        write(results, repeats, warmup)
        time.sleep(0.3)
    print(f"wrote {os.path.relpath(PATH)}")


def write(results, repeats, warmup):
    report = {"cpu": compare.cpu_model(), "threads": int(os.environ.get("RECLIP_THREADS", os.cpu_count() or 1)),
              "repeats": repeats, "warmup": warmup, "cases": [{"name": c, **r} for c, r in results.items()], "charts": charts(results)}
    os.makedirs(os.path.dirname(PATH), exist_ok=True)
    with open(PATH + ".tmp", "w") as f:
        json.dump(report, f, indent=2)
    os.replace(PATH + ".tmp", PATH)


if __name__ == "__main__":
    main()
