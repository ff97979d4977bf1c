#!/usr/bin/env bash
# Installs what building the agent's eBPF exec capture needs (clang for `-target bpf`, the
# libbpf headers) and bpftool for inspecting it. Without them the build still succeeds and
# the agent falls back to the proc connector, but the BPF-source tests then fail saying so.
# Idempotent: installs only what is missing. Facts: ../shared/env-notes.md (eBPF section).
set -euo pipefail

packages=(clang llvm libbpf-dev bpftool)
missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "35-bpf.sh: must run as root to install ${missing[*]}" >&2
        exit 1
    fi
    echo "35-bpf.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
