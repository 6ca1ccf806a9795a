#!/usr/bin/env bash
# Compiles each check (checks/NAME.cpp, or the NAMEs given) with g++ against the CUDA emulator and the kernel
# sources, runs it, and exits non-zero if any check fails. Needs g++ 12+ (C++20); no GPU, no CUDA toolkit.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${RECLIP_EMULATOR_BUILD:-$(mktemp -d)}"
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    for file in "$here"/checks/*.cpp; do names+=("$(basename "$file" .cpp)"); done
fi
failed=0
for name in "${names[@]}"; do
    # Misaligned vector accesses, which x86 tolerates and a GPU faults on, stop the check. No contraction into fused
    # multiply-adds: a check that holds a kernel to exact roundings must get the roundings it writes.
    g++ -std=c++20 -O2 -ffp-contract=off -pthread -fsanitize=alignment -fno-sanitize-recover=alignment -I"$here" -I"$root/kernels" -o "$build/$name" "$here/checks/$name.cpp"
    if "$build/$name"; then echo "$name: ok"; else echo "$name: FAILED"; failed=1; fi
done
exit $failed
