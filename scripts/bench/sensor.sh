#!/usr/bin/env bash
# The sensor's benchmark (docs/benchmarks.md, "Sensor"), with the release binaries in BIN:
#   1. initial sync: WORKLOADS workloads (palisade-synth; 10,000 by default, 34,000 objects)
#      served by palisade-kube-fake over HTTPS; time from the sensor's start to its first list
#      complete and to central's acknowledgement of the first snapshot;
#   2. CHANGES Deployments changed one after the other (a pod-template label, merge patch):
#      the sensor's `latency_ms` (watch event received → delta acknowledged by central),
#      p50 / p99 / max, and its evaluation time;
#   3. the sensor's RSS after the sync and its peak.
#   scripts/bench/sensor.sh BIN [WORKLOADS] [CHANGES]
# SENSOR_LOG=FILE keeps the sensor's log (JSON lines) there. SENSOR_LABEL=KEY changes that
# pod-template label instead of `bench` (which no selector names, so each change takes the
# sensor's focused path); `app`, which Services and NetworkPolicies select on, forces a full
# evaluation per change (what every change cost before the focused path).
set -euo pipefail
bin="${1:?release bin directory}"
workloads="${2:-10000}"
changes="${3:-200}"
work="$(mktemp -d)"
log="${SENSOR_LOG:-$work/sensor.log}"
trap 'kill "${sensor_pid:-0}" "${central_pid:-0}" "${fake_pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
"$bin/palisade-synth" --workloads "$workloads" --out "$work/synth" >/dev/null

"$bin/palisade-kube-fake" --dir "$work/fake" "$work/synth" >"$work/fake.out" 2>"$work/fake.err" &
fake_pid=$!
for _ in $(seq 1 3000); do
    [ "$(wc -l <"$work/fake.out")" -ge 4 ] && break
    kill -0 "$fake_pid" 2>/dev/null || { echo "palisade-kube-fake exited:" >&2; cat "$work/fake.err" >&2; exit 1; }
    sleep 0.1
done
fake_url="$(sed -n 1p "$work/fake.out")"
fake_ca="$(sed -n 2p "$work/fake.out")"
kubeconfig="$(sed -n 3p "$work/fake.out")"
echo "fake API server: $(sed -n 4p "$work/fake.out")"

port=$((20000 + RANDOM % 20000))
"$bin/palisade" central serve --data "$work/data" --addr "127.0.0.1:$port" -q \
    >"$work/central.out" 2>"$work/central.err" &
central_pid=$!
for _ in $(seq 1 100); do [ -s "$work/data/admin.token" ] && break; sleep 0.1; done
url="https://127.0.0.1:$port"
for _ in $(seq 1 100); do curl -sk "$url/healthz" >/dev/null && break; sleep 0.1; done
"$bin/palisade" central token create --data "$work/data" --role sensor --cluster bench \
    --name bench-sensor | grep -o 'pal_[0-9a-zA-Z_]*' | head -1 >"$work/sensor.token"

start=$(date +%s.%N)
"$bin/palisade" sensor run --central "$url" --cluster bench --token-file "$work/sensor.token" \
    --ca-cert "$work/data/tls/ca.pem" --kubeconfig "$kubeconfig" --resync 1h 2>"$log" &
sensor_pid=$!
# Up to ten minutes: 100,000 workloads take two to three on this machine.
for _ in $(seq 1 12000); do grep -q "snapshot acknowledged" "$log" && break; sleep 0.05; done
end=$(date +%s.%N)
grep -q "snapshot acknowledged" "$log" || { cat "$log"; exit 1; }
python3 - "$log" "$start" <<'PY'
import json, sys, datetime
start = float(sys.argv[2])
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["message"] in ("initial list complete", "snapshot acknowledged"):
        t = datetime.datetime.fromisoformat(r["timestamp"].replace("Z", "+00:00")).timestamp()
        print(f'{r["message"]}: {t - start:.2f} s after start', {k: v for k, v in r.items() if k in ("objects", "workloads", "findings", "evaluate_ms")})
PY
echo "initial sync acknowledged (seen by this script): $(echo "$end - $start" | bc) s"
echo "sensor RSS after the sync: $(grep VmRSS /proc/$sensor_pid/status)"

# Deployments of the synthetic cluster: namespace/name pairs.
deployments=$(grep -h -A3 "^kind: Deployment" "$work/synth"/*.yaml | grep -E "^  (name|namespace):" \
    | paste - - | awk -v n="$changes" 'NR <= n {print $4 "/" $2}')
token="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["users"][0]["user"]["token"])' "$kubeconfig")"
i=0
for d in $deployments; do
    i=$((i + 1))
    before=$(grep -c "delta acknowledged" "$log" || true)
    curl -s --cacert "$fake_ca" -H "Authorization: Bearer $token" -X PATCH \
        -H "Content-Type: application/merge-patch+json" \
        "$fake_url/apis/apps/v1/namespaces/${d%/*}/deployments/${d#*/}" \
        -d "{\"spec\":{\"template\":{\"metadata\":{\"labels\":{\"${SENSOR_LABEL:-bench}\":\"c$i\"}}}}}" >/dev/null
    for _ in $(seq 1 2000); do
        [ "$(grep -c "delta acknowledged" "$log" || true)" -gt "$before" ] && break
        sleep 0.01
    done
done
python3 - "$log" <<'PY'
import json, sys
lat, ev, paths = [], [], {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["message"] == "delta acknowledged":
        lat.append(r["latency_ms"]); ev.append(r["evaluate_ms"])
        paths[r.get("path")] = paths.get(r.get("path"), 0) + 1
print("deltas by path:", paths)
lat.sort(); ev.sort()
q = lambda v, p: v[min(len(v) - 1, int(round(p * (len(v) - 1))))]
print(f"{len(lat)} deltas acknowledged; watch event -> acknowledged: p50 {q(lat, .5):.0f} ms, p99 {q(lat, .99):.0f} ms, max {lat[-1]:.0f} ms; evaluation p50 {q(ev, .5)} ms, p99 {q(ev, .99)} ms")
PY
echo "sensor RSS now: $(grep VmRSS /proc/$sensor_pid/status); peak: $(grep VmHWM /proc/$sensor_pid/status)"
kill -TERM "$sensor_pid"
wait "$sensor_pid" && echo "sensor exited 0 on SIGTERM"
