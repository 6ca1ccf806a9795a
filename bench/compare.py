#!/usr/bin/env python3
"""Runs our workloads and PyTorch's side by side in one run and prints the speed-ups.

Both sides are long-lived processes (bench `serve` and peer_torch.py) that set each case up once; the
rounds alternate ours, PyTorch, ours, ... with a pause between them so neither side's idle spinning
threads steal the other's cores. Each side's time is the median over all its repeats; the speed-up is
PyTorch ms / ours ms. After a case each side reports its peak resident size (VmHWM, MiB) while that case was
set up and run: whole processes, runtime and weights included. Writes bench/results/latest.json. Called by
compare.sh.
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
    rounds, repeats = (3, 3) if args.quick else (7, 5)
    heavy = ("vit", "text", "refprompt", "train")  # whole encoders: fewer repeats keep a full run within minutes

    env = dict(os.environ)
    ours, our_cases = start(args.ours.split() + ["serve"], env)
    peer, peer_cases = start([sys.executable, os.path.join(HERE, "peer_torch.py")], env)
    cases = args.cases or sorted(our_cases & peer_cases, key=lambda c: (not c.startswith("sgemm_2048"), c))
    if args.quick and not args.cases:
        cases = [c for c in cases if c not in ("text171", "vit448_b1")]  # the two slowest, for a run under 2 minutes
    results = []
    for case in cases:
        mine, theirs = [], []
        count = 1 if case.startswith(heavy) else repeats
        for _ in range(rounds):
            mine += ask(ours, case, count)
            time.sleep(0.3)
            theirs += ask(peer, case, count)
            time.sleep(0.3)
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
              "pytorch": torch.__version__, "rounds": rounds, "repeats": repeats, "cases": results}
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    path = os.path.join(HERE, "results", "latest.json")
    with open(path + ".tmp", "w") as f:
        json.dump(report, f, indent=2)
    os.replace(path + ".tmp", path)
    print(f"cpu: {report['cpu']}, threads {report['threads']}, PyTorch {report['pytorch']}; wrote {os.path.relpath(path)}")


if __name__ == "__main__":
    main()
