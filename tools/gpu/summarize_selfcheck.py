"""The selfcheck report of tools/gpu/run.sh in a few lines (the run's reply carries only the end of its output): how
many outputs are within tolerance, the worst relative error per op, and every failure, error and op without a kernel.
Usage: python3 summarize_selfcheck.py selfcheck-cuda.json  (`reclip selfcheck --device cuda --json`)"""
import sys
from collections import defaultdict

from reports import load


def main(path):
    report = load(path)
    if report is None:
        return 1
    worst = defaultdict(float)
    for row in report["results"]:
        worst[row["op"]] = max(worst[row["op"]], row["max_rel_error"])
    failed = [r for r in report["results"] if not r["passed"]]
    print(f"{len(report['results']) - len(failed)} of {len(report['results'])} outputs within tolerance; worst relative error per op:")
    print("  " + ", ".join(f"{op} {error:.1e}" for op, error in worst.items()))
    for r in failed:
        print(f"  FAIL {r['op']} {r['case']} {r['output']}: abs {r['max_abs_error']:.2e} rel {r['max_rel_error']:.2e}")
    for error in report["errors"]:
        print(f"  ERROR {error}")
    if report["without_kernel"]:
        print("  no kernel: " + ", ".join(report["without_kernel"]))
    return 0 if not failed and not report["errors"] else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
