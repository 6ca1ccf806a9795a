#!/usr/bin/env bash
# Run here, before using the GPU machine: publishes `reclip` as one self-contained, trimmed file into
# tools/gpu/out/ (ignored by git; pass it to the device tool with carry: ["tools/gpu/out"]), because the
# GPU machine has no .NET. Then smoke-tests the published file on this machine.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$root/tools/gpu/out"
rm -rf "$out"
dotnet publish "$root/src/Cli/ReClip.Cli.csproj" -c Release -r linux-x64 --self-contained \
  -p:PublishSingleFile=true -p:PublishTrimmed=true -p:IncludeNativeLibrariesForSelfExtract=true \
  -p:EnableCompressionInSingleFile=true -p:InvariantGlobalization=true --nologo -v quiet -o "$out"
rm -f "$out"/*.pdb
size=$(du -sm "$out" | cut -f1)
echo "prepare: published $(ls "$out") into tools/gpu/out (${size} MiB)"
"$out/reclip" info >/dev/null
"$out/reclip" selfcheck --device cpu >/dev/null
echo "prepare: the published reclip runs info and selfcheck on this CPU"
