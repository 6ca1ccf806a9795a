#!/usr/bin/env bash
# On the GPU machine (no .NET, PyTorch 2.11, CUDA 13), in one call: find the CUDA libraries, describe the machine,
# run every kernel against the CPU reference (`reclip selfcheck --device cuda`), time the image tower and the
# training steps against PyTorch on the same card, hold both towers on the GPU against the CPU, run the quick demo
# there (training with CUDA graphs), run the test classes that touch a GPU (their GPU tests run instead of skipping),
# and write everything under $OUT (at most 8 files come back). The steps run in that order, so that a call cut short
# by its time limit still brings back the kernels' check and the timings. Needs tools/gpu/out/bundle.tar.xz from prepare.sh (carried with the working tree).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${OUT:-$root/gpu-report}"
mkdir -p "$out"
bundle="$root/tools/gpu/out/bundle"
reclip="$bundle/reclip"
log="$out/run.log"
# Only a few files come back from $OUT: intermediates go to a scratch folder, the reports to $OUT.
work="$(mktemp -d)"
# The unpacked bundle (110 MB) goes when the run ends, so that tools/gpu/out can travel again as prepare.sh left it.
trap 'rm -rf "$bundle" "$work"' EXIT
exec > >(tee "$log") 2>&1

# Each step's header carries the seconds since the start, so that a run shows where its lease went.
step() { echo; echo "== [${SECONDS}s] $*"; }
# Every step has its own time limit, so one hang cannot spend the whole lease.
limited() { local seconds=$1; shift; timeout --kill-after=5 "$seconds" "$@"; }

step "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv || true
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' || true

step "CUDA libraries"
# pip puts cuBLAS and NVRTC under site-packages/nvidia/...; the driver is on the loader path.
dirs=$(find / -xdev \( -name 'libcublas.so*' -o -name 'libnvrtc.so*' \) -not -path '*/proc/*' -not -path '*/stubs/*' 2>/dev/null | xargs -r -n1 dirname | sort -u | paste -sd: -)
export RECLIP_CUDA_LIBS="$dirs"
echo "RECLIP_CUDA_LIBS=$RECLIP_CUDA_LIBS"
export RECLIP_KERNEL_CACHE="$work/kernel-cache"

if [[ ! -f "$root/tools/gpu/out/bundle.tar.xz" ]]; then
  echo "run: tools/gpu/out/bundle.tar.xz is missing: run tools/gpu/prepare.sh first and carry tools/gpu/out"
  exit 1
fi
# Under the checkout, so that the tests find the files it ships (they look in the folders above their own).
python3 "$root/tools/gpu/unpack.py" "$root/tools/gpu/out/bundle.tar.xz" "$bundle" "$root" || exit 1

step "reclip info"
"$reclip" info

step "selfcheck on cuda:0 (every kernel against the CPU reference)"
limited 120 "$reclip" selfcheck --device cuda --json > "$out/selfcheck-cuda.json"; echo "exit $?"
python3 "$root/tools/gpu/summarize_selfcheck.py" "$out/selfcheck-cuda.json"

# The timings right after the kernels are known good: they are what a short lease most needs to bring back.
step "timings on cuda:0: ours (image tower, segmentation, training steps, the step options) and PyTorch's image tower on the same card"
# Training steps on 224-pixel crops in the first call (as the runs before timed them), on VOC's 336 in the second (the
# step target's setting).
for run in "64 224" "256 336"; do
  read -r batch crop <<< "$run"
  # The options, measured last, stop starting at 150 s, so that the report is written within the step's 180.
  limited 180 "$reclip" bench --device cuda --size 224 --train-size "$crop" --batch "$batch" --deadline 150 --json > "$out/bench-cuda-b$batch.json"
  echo "bench batch $batch, training crops $crop: exit $?"
done
limited 120 python3 "$root/tools/gpu/vit_peer.py" --size 224 --batch 64 256 > "$out/peer.json"; echo "peer: exit $?"
python3 "$root/tools/gpu/compare_bench.py" "$out" | tee "$out/bench-summary.txt"

step "both towers on cuda:0 against the CPU (the bundled tiny CLIP, two synthetic pictures, two texts)"
"$reclip" synth --out "$work/synth" --count 2 --seed 7 > /dev/null; echo "exit $?"
pictures=()
for picture in "$work"/synth/images/*.png; do pictures+=(--image "$picture"); done
for device in cpu cuda; do
  limited 60 "$reclip" features --weights "$root/assets/tinyclip/tinyclip-synthetic.safetensors" "${pictures[@]}" --dense --json --device "$device" \
    --text "a photo of the sky above the sea." --text "a red umbrella on the sand." \
    > "$work/features-$device.json"; echo "features on $device: exit $?"
done
python3 "$root/tools/gpu/compare_features.py" "$work/features-cpu.json" "$work/features-cuda.json" | tee "$work/features-parity.txt"

step "MaskCLIP evaluation with the towers on cuda:0 (float32, the image tower in bfloat16, TF32 GEMMs) against the CPU (the same two pictures)"
for run in "cpu" "cuda" "cuda --image-bf16" "cuda --tf32"; do
  # shellcheck disable=SC2086  # the run's words are its options
  limited 90 "$reclip" eval --weights "$root/assets/tinyclip/tinyclip-synthetic.safetensors" --dataset folder --root "$work/synth" \
    --method maskclip --device $run --json > "$work/eval-${run// /}.json"; echo "eval on $run: exit $?"
done
python3 -c 'import json, sys; a, b, c, d = (json.load(open(p))["miou"] for p in sys.argv[1:]); print(f"mIoU cpu {a:.4f}, cuda {b:.4f}, cuda with the image tower in bfloat16 {c:.4f}, cuda with TF32 GEMMs {d:.4f}")' \
  "$work/eval-cpu.json" "$work/eval-cuda.json" "$work/eval-cuda--image-bf16.json" "$work/eval-cuda--tf32.json" | tee "$work/eval-parity.txt"

step "the quick demo on cuda:0: towers, head and training steps (CUDA graphs) on the GPU; the CPU's figures are in docs/DEMO.md"
limited 180 "$reclip" demo --quick --device cuda --out "$work/demo-cuda" --world "$work/world" 2>&1 | tail -5 | tee "$work/demo-cuda.txt"

step "the tests of every class that touches a GPU, here where they run instead of skipping (the rest run in CI)"
# The whole suite outlasts the lease here once its commands run as processes; these classes hold every GPU test.
classes=$(grep -rlE 'Requires\.(CudaDevice|Nccl)|CudaDriver\.IsAvailable|Device\.Cuda\(' "$root/tests" --include='*.cs' | xargs -n1 basename | sed 's/\.cs$//' | sort -u)
filter=$(printf 'FullyQualifiedName~.%s.|' $classes)
limited 300 "$bundle/ReClip.Tests" --progress off --filter "${filter%|}" > "$out/tests.log" 2>&1; echo "exit $?"
grep -E '^failed ' "$out/tests.log" | head -30
echo "skipped here: $(grep -c '^skipped ' "$out/tests.log") (their reasons are in tests.log)"
sed -n '/^Test run summary/,$p' "$out/tests.log"

step "done; report files:"
ls -la "$out"
