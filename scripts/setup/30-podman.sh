#!/usr/bin/env bash
# Installs and configures rootful podman + crun for Palisade's runtime-agent tests.
# Idempotent: installs packages only when missing, rewrites only our config keys, mounts the
# hugetlb cgroup hierarchy only when needed. Facts behind each step: ../shared/env-notes.md.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
    echo "30-podman.sh: must run as root (rootful podman, cgroup mounts)" >&2
    exit 1
fi

packages=(podman crun catatonit busybox-static)
missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if ((${#missing[@]})); then
    echo "30-podman.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Hybrid cgroups: crun refuses to start until hugetlb has its own v1 hierarchy.
# (cgroupfs files report size 0, so read the content instead of testing -s.)
v2_controllers=""
if [[ -r /sys/fs/cgroup/unified/cgroup.controllers ]]; then
    v2_controllers=$(cat /sys/fs/cgroup/unified/cgroup.controllers)
fi
if [[ -n $v2_controllers ]] && ! mountpoint -q /sys/fs/cgroup/hugetlb; then
    mkdir -p /sys/fs/cgroup/hugetlb
    mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb
fi

# containers.conf: no systemd, no iptables, rlimits root can actually set.
conf=/etc/containers/containers.conf
mkdir -p /etc/containers
wanted=$(cat <<'CONF'
# Written by palisade scripts/setup/30-podman.sh
[containers]
netns = "none"
default_ulimits = ["nofile=16384:16384", "nproc=16384:16384"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "crun"
CONF
)
if [[ ! -f $conf ]] || [[ "$(cat "$conf")" != "$wanted" ]]; then
    if [[ -f $conf ]] && ! grep -q "palisade scripts/setup/30-podman.sh" "$conf"; then
        cp "$conf" "$conf.palisade-backup"
    fi
    printf '%s\n' "$wanted" >"$conf.tmp"
    mv "$conf.tmp" "$conf"
fi

# Fail loudly if the stack still cannot run a container.
if ! podman info --format '{{.Host.OCIRuntime.Name}}' >/dev/null 2>&1; then
    echo "30-podman.sh: podman info failed after setup:" >&2
    podman info >&2 || true
    exit 1
fi
echo "30-podman.sh: podman $(podman --version | awk '{print $3}') with $(podman info --format '{{.Host.OCIRuntime.Name}}') ready"
