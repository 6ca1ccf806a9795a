#!/usr/bin/env bash
# Run here, before using the GPU machine, which has no .NET: publishes `reclip` and the test suite (as a program
# of its own, NUnit's runner) self-contained into one folder that shares one runtime, and packs it as
# tools/gpu/out/bundle.tar.xz (ignored by git; pass it to the device tool with carry: ["tools/gpu/out"]).
# The bundle leaves out what the checkout already carries (assets/, tests/fixtures/): run.sh links them in.
# Then smoke-tests the unpacked bundle on this machine.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$root/tools/gpu/out"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
rm -rf "$out"
mkdir -p "$out"
# Partial trimming trims only the framework, to what our assemblies and NUnit's reach, so the whole suite and
# the CLI run as built; the tests read their fixtures' JSON by reflection, which stays on (and System.Text.Json whole).
publish=(-c Release -r linux-x64 --self-contained -p:PublishTrimmed=true -p:TrimMode=partial
  -p:SuppressTrimAnalysisWarnings=true -p:JsonSerializerIsReflectionEnabledByDefault=true
  -p:SatelliteResourceLanguages=en -p:InvariantGlobalization=true --nologo -v quiet)
dotnet publish "$root/tests/ReClip.Tests.csproj" -p:TestsAsProgram=true "${publish[@]}" -o "$stage/bundle"
# The tests reach all of the CLI, so their trimmed runtime serves it too: only its host and manifests join them.
dotnet publish "$root/src/Cli/ReClip.Cli.csproj" "${publish[@]}" -o "$stage/cli"
cp "$stage/cli/reclip" "$stage/cli/reclip.deps.json" "$stage/cli/reclip.runtimeconfig.json" "$stage/bundle/"
rm -rf "$stage/bundle/assets" "$stage/bundle/fixtures"
find "$stage/bundle" -name '*.pdb' -delete
tar -C "$stage/bundle" -cf - . | xz -6 -T0 > "$out/bundle.tar.xz"
echo "prepare: packed reclip and the tests into tools/gpu/out/bundle.tar.xz ($(du -m "$out/bundle.tar.xz" | cut -f1) MiB)"

python3 "$root/tools/gpu/unpack.py" "$out/bundle.tar.xz" "$stage/check" "$root"
"$stage/check/reclip" info >/dev/null
"$stage/check/reclip" selfcheck --device cpu >/dev/null
"$stage/check/ReClip.Tests" --no-progress --filter "FullyQualifiedName~ReClipHeadTests" >"$stage/tests.log" 2>&1 \
  || { tail -20 "$stage/tests.log"; exit 1; }
echo "prepare: the unpacked bundle runs reclip info, reclip selfcheck and ReClipHeadTests on this CPU"
