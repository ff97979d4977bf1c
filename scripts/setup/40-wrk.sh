#!/usr/bin/env bash
# Installs wrk (Debian package), the HTTP load generator used by the admission webhook benchmark
# (crates/palisade-admission/bench/). Idempotent: installs only when missing.
set -euo pipefail

if command -v wrk >/dev/null 2>&1; then
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# Other setup scripts may hold the apt locks: wait for them instead of failing.
for attempt in 1 2 3 4 5; do
    if apt-get -o DPkg::Lock::Timeout=120 update -qq &&
        apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends wrk >/dev/null; then
        break
    fi
    if [ "$attempt" = 5 ]; then
        echo "40-wrk.sh: could not install wrk" >&2
        exit 1
    fi
    sleep 10
done
command -v wrk >/dev/null
