#!/usr/bin/env bash
# Installs what building the agent's eBPF exec capture needs (clang for `-target bpf`, the
# libbpf headers) and bpftool for inspecting it. Without them the build still succeeds and
# the agent falls back to the proc connector, but the eBPF-source tests then fail saying so.
# Idempotent: apt-get runs only when one of the packages is not installed. Facts:
# ../shared/env-notes.md (eBPF section).
set -euo pipefail

packages=(clang llvm libbpf-dev bpftool)
installed=$(dpkg-query -W -f='${Status}\n' "${packages[@]}" 2>/dev/null | grep -c "install ok installed" || true)
if [[ $installed -ne ${#packages[@]} ]]; then
    if [[ $(id -u) -ne 0 ]]; then
        echo "35-bpf.sh: must run as root to install ${packages[*]}" >&2
        exit 1
    fi
    echo "35-bpf.sh: installing ${packages[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi
