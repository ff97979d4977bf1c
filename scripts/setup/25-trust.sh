#!/usr/bin/env bash
# Installs what palisade-trust and the `image verify|sign` tests need besides 20-registry.sh
# (docker-registry, skopeo): the openssl CLI, used as an independent implementation to verify
# our signatures and to make keys and signatures we verify. Idempotent.
set -euo pipefail

if ! command -v openssl >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=120 update -qq
    apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends openssl >/dev/null
fi
