#!/usr/bin/env bash
# Installs Debian's kubectl (v1.32, the `kubectl` package, not the old `kubernetes-client`) for
# the live-cluster tests, which hold the fake API server (palisade-kube-fake) to a real client,
# and links it as $PALISADE_TEST_CACHE/kubectl/kubectl, where tests find it through
# palisade_testkit::cache::kubectl(). Idempotent.
set -euo pipefail

if ! dpkg-query -W -f='${Status}' kubectl 2>/dev/null | grep -q "install ok installed"; then
    # Other setup scripts may hold the apt locks: apt waits for them (DPkg::Lock::Timeout).
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 \
        install -y -qq --no-install-recommends kubectl >/dev/null
fi

CACHE="${PALISADE_TEST_CACHE:-$HOME/.cache/palisade-test}"
mkdir -p "$CACHE/kubectl"
ln -sf "$(command -v kubectl)" "$CACHE/kubectl/kubectl"
