#!/usr/bin/env python3
"""Runs our workloads and PyTorch's side by side in one run and prints the speed-ups.

Both sides are long-lived processes (bench `serve` and peer_torch.py) that set each case up once; the rounds
alternate ours, PyTorch, ours, ... with a pause between them so neither side's idle spinning threads steal the
other's cores; each round keeps one time per side (a whole encoder's one call, a light case's last of three).
Each side's time is the median over its rounds; the speed-up is PyTorch ms / ours ms. The machines are shared:
another tenant can slow everything for seconds, so the sides take turns after every kept time rather than after
blocks of them, and such a spell falls on both sides instead of on one side's whole block (with blocks of three
timed calls, sgemm_2048 read 0.70 and 1.35 in two runs minutes apart). After a case each side reports its peak
resident size (VmHWM, MiB) while that case was set up and run: whole processes, runtime and weights included.
Writes bench/results/latest.json. Called by compare.sh.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# Long enough for OpenMP's and our pool's idle threads to stop spinning (libgomp spins for milliseconds).
PAUSE_SECONDS = 0.1


def start(command, env):
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    ready = process.stdout.readline().split()
    if not ready or ready[0] != "ready":
        sys.exit(f"compare: {' '.join(command)} did not start: {' '.join(ready)}")
    return process, set(ready[1:])


def ask(process, case, repeats=None, warmup=None):
    words = [case] + [str(n) for n in (repeats, warmup) if n is not None]
    process.stdin.write(" ".join(words) + "\n")
    process.stdin.flush()
    reply = process.stdout.readline().split()
    if not reply or reply[0] != "ok":
        sys.exit(f"compare: case {case} failed: {' '.join(reply)}")
    return [float(t) for t in reply[1:]]


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ours", required=True, help="command line of our bench server, e.g. 'dotnet bench.dll'")
    parser.add_argument("--quick", action="store_true", help="fewer rounds (the whole run under 2 minutes)")
    parser.add_argument("--cases", nargs="*", help="only these cases")
    args = parser.parse_args()
    rounds = 9 if args.quick else 21
    heavy = ("vit", "text", "refprompt", "train")  # whole encoders: fewer rounds keep a full run within minutes
    heavy_rounds = 3 if args.quick else 7

    env = dict(os.environ)
    ours, our_cases = start(args.ours.split() + ["serve"], env)
    peer, peer_cases = start([sys.executable, os.path.join(HERE, "peer_torch.py")], env)
    cases = args.cases or sorted(our_cases & peer_cases, key=lambda c: (not c.startswith("sgemm_2048"), c))
    if args.quick and not args.cases:
        cases = [c for c in cases if c not in ("text171", "vit448_b1")]  # the two slowest, for a run under 2 minutes
    results = []
    for case in cases:
        mine, theirs = [], []
        whole_encoder = case.startswith(heavy)
        # After the pause the threads of both sides sleep, and PyTorch's OpenMP ones take up to several milliseconds to
        # wake (measured on a 0.1 ms LayerNorm: 0.4–3.8 ms for the first call, up to 8 ms for the second): a light
        # case runs three calls and keeps the last, the steady state a model's back-to-back calls see.
        calls = 1 if whole_encoder else 3
        for _ in range(heavy_rounds if whole_encoder else rounds):
            mine.append(ask(ours, case, calls)[-1])
            time.sleep(PAUSE_SECONDS)
            theirs.append(ask(peer, case, calls)[-1])
            time.sleep(PAUSE_SECONDS)
        ours_ms, pytorch_ms = statistics.median(mine), statistics.median(theirs)
        ours_mib, pytorch_mib = ask(ours, "peak")[0], ask(peer, "peak")[0]
        results.append({"name": case, "ours_ms": round(ours_ms, 4), "pytorch_ms": round(pytorch_ms, 4),
                        "speedup": round(pytorch_ms / ours_ms, 3), "ours_peak_mib": ours_mib, "pytorch_peak_mib": pytorch_mib})
        print(f"{case:24s} | {ours_ms:10.3f} | {pytorch_ms:10.3f} | {pytorch_ms / ours_ms:8.2f} | {ours_mib:8.0f} | {pytorch_mib:8.0f}",
              flush=True)
    for process in (ours, peer):
        process.stdin.write("quit\n")
        process.stdin.close()
        process.wait()

    import torch
    report = {"cpu": cpu_model(), "threads": int(env.get("RECLIP_THREADS", os.cpu_count() or 1)),
              "pytorch": torch.__version__, "rounds": rounds, "heavy_rounds": heavy_rounds, "cases": results}
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    path = os.path.join(HERE, "results", "latest.json")
    with open(path + ".tmp", "w") as f:
        json.dump(report, f, indent=2)
    os.replace(path + ".tmp", path)
    print(f"cpu: {report['cpu']}, threads {report['threads']}, PyTorch {report['pytorch']}; wrote {os.path.relpath(path)}")


if __name__ == "__main__":
    main()
