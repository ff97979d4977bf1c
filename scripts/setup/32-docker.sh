#!/usr/bin/env bash
# Installs Debian's Docker engine (docker.io 20.10, which brings containerd 1.6 and runc) for
# the agent's real-engine tests (crates/palisade-agent/tests/engines.rs). The system services
# are neither enabled nor started: each test binary starts its own private dockerd/containerd
# in a temp dir (palisade_testkit::docker, palisade_testkit::containerd) and stops it.
# Tests use Debian's client, /usr/bin/docker, explicitly: a newer client elsewhere on PATH
# may speak an API version the 20.10 daemon refuses.
# CRI-O and crictl (cri-tools) are not packaged in Debian bookworm, so they are not installed.
# Idempotent: apt-get runs only when a package is missing. Facts: ../shared/env-notes.md.
set -euo pipefail

packages=(docker.io containerd runc busybox-static)
missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "32-docker.sh: must run as root to install ${missing[*]}" >&2
        exit 1
    fi
    echo "32-docker.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # Keep the packages' services from starting: tests start private daemons themselves.
    policy=/usr/sbin/policy-rc.d
    added_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        added_policy=1
    fi
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    if ((added_policy)); then
        rm -f "$policy"
    fi
fi

for bin in /usr/bin/docker /usr/sbin/dockerd /usr/bin/containerd /usr/bin/ctr /usr/sbin/runc; do
    if [[ ! -x $bin ]]; then
        echo "32-docker.sh: $bin missing after install" >&2
        exit 1
    fi
done
echo "32-docker.sh: $(/usr/bin/docker --version), containerd $(/usr/bin/containerd --version | awk '{print $3}') ready"
