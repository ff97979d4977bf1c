#!/usr/bin/env bash
# Installs Debian's headless-capable Chromium and its WebDriver (chromium, chromium-driver) for
# the dashboard's browser tests (crates/palisade/tests/dashboard.rs), and links them as
# $PALISADE_TEST_CACHE/chromium/{chromium,chromedriver}, where tests find them through
# palisade_testkit::cache::chromium(). The tests start their own chromedriver on a free
# loopback port and stop it. Idempotent.
set -euo pipefail

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

if ! installed chromium || ! installed chromium-driver; then
    # Other setup scripts may hold the apt locks: apt waits for them (DPkg::Lock::Timeout).
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 \
        install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core >/dev/null
fi

CACHE="${PALISADE_TEST_CACHE:-$HOME/.cache/palisade-test}"
mkdir -p "$CACHE/chromium"
ln -sf "$(command -v chromium)" "$CACHE/chromium/chromium"
ln -sf "$(command -v chromedriver)" "$CACHE/chromium/chromedriver"
