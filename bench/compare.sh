#!/usr/bin/env bash
# Side-by-side benchmark: our kernels against PyTorch (Debian's build, OpenBLAS with OpenMP) in one run
# on this machine. Prints "case | ours ms | PyTorch ms | speed-up | peak resident MiB of each side" and writes
# bench/results/latest.json.
# Usage: bench/compare.sh [--quick] [--cases NAME...]
#        bench/compare.sh --scaling [--quick]   scaling curves of ours alone (bench/scaling.py -> bench/results/scaling.json)
#        bench/compare.sh --onnx      ours against ONNX Runtime (BenchmarkDotNet, OnnxBenchmarks -> bench/results/onnx.json)
#        bench/compare.sh --plot      the charts of bench/results/*.json as PNG in docs/figures/ (bench/plot)
#        bench/compare.sh --all       all of the above after the PyTorch comparison
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python=/usr/bin/python3

if ! "$python" -c 'import torch' 2>/dev/null; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "compare: PyTorch is missing; install it with: apt-get install python3-torch python3-numpy libopenblas0-openmp" >&2
    exit 1
  fi
  echo "compare: installing PyTorch from Debian (python3-torch python3-numpy libopenblas0-openmp)…" >&2
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch python3-numpy libopenblas0-openmp >/dev/null
fi
# The OpenMP OpenBLAS, not the pthread one that fights torch's threads (measured 4–7× slower); OpenBLAS 0.3.21
# does not know Zen 5 and would pick AVX2 kernels unless told the core type, which only AVX-512 CPUs take.
export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
if grep -q avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX; else unset OPENBLAS_CORETYPE; fi
export RECLIP_THREADS=${RECLIP_THREADS:-$(nproc)}
export OMP_NUM_THREADS=$RECLIP_THREADS

dotnet build "$root/bench/ReClip.Bench.csproj" -c Release --nologo -v quiet -o "$root/artifacts/bench" >/dev/null
ours="dotnet $root/artifacts/bench/ReClip.Bench.dll"

pytorch() {
  echo "case                     |   ours ms  | PyTorch ms | speed-up | ours MiB | torch MiB"
  "$python" "$root/bench/compare.py" --ours "$ours" "$@"
}
scaling() { "$python" "$root/bench/scaling.py" --ours "$ours" "$@"; }
# In this process (OnnxComparisonConfig), from the bench folder so BenchmarkDotNet's reports land in bench/.
onnx() { (cd "$root/bench" && $ours --filter '*OnnxBenchmarks*'); }
plot() {
  dotnet build "$root/bench/plot/ReClip.Bench.Plot.csproj" -c Release --nologo -v quiet -o "$root/artifacts/plot" >/dev/null
  dotnet "$root/artifacts/plot/ReClip.Bench.Plot.dll"
}

case "${1:-}" in
  --scaling) shift; scaling "$@" ;;
  --onnx) onnx ;;
  --plot) plot ;;
  --all) pytorch && onnx && scaling && plot ;;
  *) pytorch "$@" ;;
esac
