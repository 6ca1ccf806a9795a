#!/usr/bin/env bash
# Makes sure an NVRTC library is loadable, so every CUDA kernel can be compiled without a GPU.
# On Debian it installs libnvrtc11.2 (NVRTC 11.8) from the non-free component through a private apt
# configuration: the machine's own sources list is not touched. Where NVRTC is already present, or
# the machine is not a Debian one we can install on as root, it only says what it found.
set -uo pipefail

have_nvrtc() {
  # Capture first: with pipefail, `ldconfig -p | grep -q` can fail when grep exits early.
  local cache
  cache=$(ldconfig -p 2>/dev/null || true)
  [[ $cache == *libnvrtc.so* ]] && return 0
  local d libs=${RECLIP_CUDA_LIBS:-}
  for d in ${libs//:/ } /usr/local/cuda/lib64 /usr/lib/x86_64-linux-gnu; do
    compgen -G "$d/libnvrtc.so*" >/dev/null && return 0
  done
  return 1
}

if have_nvrtc; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null || [[ ! -f /etc/apt/sources.list.d/debian.sources ]]; then
  echo "install-nvrtc: NVRTC not found and cannot be installed here (needs root on Debian); kernel compile tests will be skipped" >&2
  exit 0
fi

echo "install-nvrtc: installing NVRTC from Debian non-free…" >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial"
# The copy must keep the .sources ending, or apt reads it as the one-line format.
sed 's/^Components:.*/Components: main contrib non-free/' /etc/apt/sources.list.d/debian.sources > "$work/debian.sources"
options=(-o "Dir::Etc::sourcelist=$work/debian.sources" -o Dir::Etc::sourceparts=/dev/null -o "Dir::State::Lists=$work/lists")
# Debian 12 ships NVRTC 11.8 as libnvrtc11.2, Debian 13 NVRTC 12 as libnvrtc12: take the first one offered.
package=""
if apt-get "${options[@]}" -o DPkg::Lock::Timeout=60 -qq update >/dev/null 2>&1; then
  for candidate in libnvrtc11.2 libnvrtc12; do
    if apt-cache "${options[@]}" show "$candidate" >/dev/null 2>&1; then package=$candidate; break; fi
  done
fi
if [[ -n $package ]] && DEBIAN_FRONTEND=noninteractive apt-get "${options[@]}" -o DPkg::Lock::Timeout=60 -qq install -y "$package" >/dev/null 2>&1; then
  echo "install-nvrtc: installed $package" >&2
else
  echo "install-nvrtc: the install failed; kernel compile tests will report NVRTC as missing" >&2
fi
exit 0
