#!/usr/bin/env bash
# Installs Debian's kubectl (v1.32, the `kubectl` package, not the old `kubernetes-client`) for
# the live-cluster tests, which hold the fake API server (palisade-kube-fake) to a real client,
# and links it as $PALISADE_TEST_CACHE/kubectl/kubectl, where tests find it through
# palisade_testkit::cache::kubectl(). Idempotent.
set -euo pipefail

if ! dpkg-query -W -f='${Status}' kubectl 2>/dev/null | grep -q "install ok installed"; then
    export DEBIAN_FRONTEND=noninteractive
    for attempt in 1 2 3 4 5; do
        if apt-get -o DPkg::Lock::Timeout=120 update -qq &&
            apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends kubectl >/dev/null; then
            break
        fi
        if [ "$attempt" = 5 ]; then
            echo "60-kubectl.sh: apt-get install kubectl failed" >&2
            exit 1
        fi
        sleep 15
    done
fi

CACHE="${PALISADE_TEST_CACHE:-$HOME/.cache/palisade-test}"
mkdir -p "$CACHE/kubectl"
ln -sf "$(command -v kubectl)" "$CACHE/kubectl/kubectl"
