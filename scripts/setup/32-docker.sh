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

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
missing=()
for p in docker.io containerd runc busybox-static; do
    installed "$p" || missing+=("$p")
done
if ((${#missing[@]})); then
    [[ $(id -u) -eq 0 ]] || { echo "32-docker.sh: must run as root to install ${missing[*]}" >&2; exit 1; }
    echo "32-docker.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=120 update -qq
    # Keep the packages' services from starting: tests start private daemons themselves.
    policy=/usr/sbin/policy-rc.d
    added_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        added_policy=1
    fi
    apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    if ((added_policy)); then rm -f "$policy"; fi
fi

for bin in /usr/bin/docker /usr/sbin/dockerd /usr/bin/containerd /usr/bin/ctr /usr/sbin/runc; do
    if [[ ! -x $bin ]]; then
        echo "32-docker.sh: $bin missing after install" >&2
        exit 1
    fi
done
echo "32-docker.sh: $(/usr/bin/docker --version), containerd $(/usr/bin/containerd --version | awk '{print $3}') ready"
