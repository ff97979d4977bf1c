#!/usr/bin/env bash
# Installs what palisade-store's (and central's) PostgreSQL tests need: Debian's PostgreSQL 15
# server binaries (initdb, pg_ctl, postgres under /usr/lib/postgresql/15/bin). Its service is
# not started: tests start a private server with palisade_testkit::postgres (initdb in a temp
# dir, a free loopback port, kill on drop). Idempotent: installs only what is missing.
set -euo pipefail

PG_BIN=/usr/lib/postgresql/15/bin
if [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/pg_ctl" ]; then
    export DEBIAN_FRONTEND=noninteractive
    # Installing must not start a cluster or a service where an init system runs.
    mkdir -p /etc/postgresql-common
    if [ ! -f /etc/postgresql-common/createcluster.conf ] ||
        ! grep -q '^create_main_cluster = false' /etc/postgresql-common/createcluster.conf; then
        echo 'create_main_cluster = false' >>/etc/postgresql-common/createcluster.conf
    fi
    # Other setup scripts may hold the apt locks: wait for them instead of failing.
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
        if apt-get -o DPkg::Lock::Timeout=120 update -qq &&
            apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends postgresql-15 >/dev/null; then
            break
        fi
        if [ "$attempt" = 10 ]; then
            echo "50-postgres.sh: apt-get failed for postgresql-15" >&2
            exit 1
        fi
        sleep 15
    done
fi
id postgres >/dev/null 2>&1 || { echo "50-postgres.sh: no postgres user after installing" >&2; exit 1; }
"$PG_BIN/postgres" --version
