#!/usr/bin/env bash
# What the fully static build (scripts/check-static) needs: musl-gcc for the C code in the
# dependencies (aws-lc-sys, SQLite, mimalloc) and Rust's standard library for the
# x86_64-unknown-linux-musl target (fetched by rustup from static.rust-lang.org). Idempotent.
set -euo pipefail

if ! command -v musl-gcc >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 \
        install -y -qq --no-install-recommends musl-tools >/dev/null
fi

if ! rustup target list --installed | grep -qx x86_64-unknown-linux-musl; then
    rustup target add x86_64-unknown-linux-musl
fi
