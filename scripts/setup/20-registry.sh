#!/usr/bin/env bash
# Installs what palisade-image / palisade-registry / palisade-sbom tests need:
#   - Debian's docker-registry (distribution 2.8) for pull tests against a real registry,
#   - apache2-utils (htpasswd, bcrypt) for the basic-auth registry test,
#   - skopeo and umoci (copy/inspect OCI layouts as an independent implementation),
#   - debootstrap + busybox-static (a real Debian rootfs built once and cached),
#   - rpm (rpmbuild + rpm --dbpath make a real sqlite rpmdb for the rpm inventory test),
#   - a Python venv with cyclonedx-python-lib (ships the official CycloneDX JSON schemas) and
#     spdx-tools (the SPDX reference validator, `pyspdxtools`), used by the SBOM tests,
#   - npm and one real npm package (semver) installed from the registry, for the npm inventory test.
# Everything built goes under $PALISADE_TEST_CACHE (default $HOME/.cache/palisade-test, as in
# scripts/test); tests find it with palisade_testkit::cache. Idempotent: installs only what is
# missing.
set -euo pipefail

need_apt=()
for pair in docker-registry:docker-registry htpasswd:apache2-utils skopeo:skopeo umoci:umoci \
    debootstrap:debootstrap busybox:busybox-static rpm:rpm rpmbuild:rpm npm:npm; do
    bin="${pair%%:*}"
    pkg="${pair##*:}"
    if ! command -v "$bin" >/dev/null 2>&1 && ! dpkg -s "$pkg" >/dev/null 2>&1; then
        need_apt+=("$pkg")
    fi
done
if [ "${#need_apt[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    # Other setup scripts may hold the apt locks: wait for them instead of failing.
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
        if apt-get -o DPkg::Lock::Timeout=120 update -qq &&
            apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null; then
            break
        fi
        if [ "$attempt" = 10 ]; then
            echo "20-registry.sh: apt-get failed for: ${need_apt[*]}" >&2
            exit 1
        fi
        sleep 15
    done
fi
# The Debian package starts a registry service on :5000 where an init system runs; tests start
# their own instances on free loopback ports, so a running system instance is not needed.

CACHE="${PALISADE_TEST_CACHE:-$HOME/.cache/palisade-test}"
mkdir -p "$CACHE"

# Python tools for SBOM schema validation.
VENV="$CACHE/sbom-venv"
if [ ! -x "$VENV/bin/pyspdxtools" ] || ! "$VENV/bin/python" -c 'import cyclonedx.schema' 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check 'cyclonedx-python-lib[json-validation]>=8' 'spdx-tools>=0.8'
fi

# A real npm package, installed by npm as an application would have it (node_modules/semver).
NPM_DIR="$CACHE/npm"
if [ ! -f "$NPM_DIR/node_modules/semver/package.json" ]; then
    mkdir -p "$NPM_DIR"
    (cd "$NPM_DIR" && npm install --no-audit --no-fund --silent --no-save semver@7.6.3 >/dev/null)
fi

# A real Debian rootfs (minbase bookworm), built once per machine.
ROOTFS="$CACHE/debian-bookworm-minbase"
if [ ! -f "$ROOTFS/.complete" ]; then
    rm -rf "$ROOTFS"
    if debootstrap --variant=minbase bookworm "$ROOTFS" http://deb.debian.org/debian >"$CACHE/debootstrap.log" 2>&1; then
        touch "$ROOTFS/.complete"
    else
        echo "20-registry.sh: debootstrap failed (see $CACHE/debootstrap.log); the Debian rootfs test will fail" >&2
        rm -rf "$ROOTFS"
    fi
fi
