#!/usr/bin/env bash
# bench-fleet.sh — `make bench-fleet`: login throughput of a simulator fleet at N = 1, 2, 3 enclaves.
# For each N it starts `bin/facesign sim --enclaves N` (each enclave with its own parent process, one
# shared log, one front) on a fresh data directory, enrols person A once, then runs
# `bin/facesign loadtest --op login` through the front with one client session per worker (so the
# workers' sessions spread over the enclaves), and prints one JSON line per N with the machine's
# CPU model, core count and load average beside the figures. It measures; it asserts nothing.
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=${BIN:-bin/facesign}
[ -x "$BIN" ] || { echo "bench-fleet.sh: $BIN not built (run make build)" >&2; exit 1; }
NS=${NS:-1 2 3}
CONC=${CONC:-6}
REQS=${REQS:-48}
REC=client/testdata/liveness/head-turn-a

CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
CORES=$(nproc)
FLAGS=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|avx512f|avx512_vnni|avx_vnni)$' | tr '\n' ' ' || true)

SIM=""
trap '[ -n "$SIM" ] && kill -TERM "$SIM" 2>/dev/null; true' EXIT

for N in $NS; do
	DATA=$(mktemp -d "${TMPDIR:-/tmp}/fsbf.XXXXXX")
	"$BIN" sim --enclaves "$N" --addr 127.0.0.1:0 --data "$DATA" --rate 0 >"$DATA/sim.url" 2>"$DATA/sim.log" &
	SIM=$!
	for _ in $(seq 1 900); do
		[ -s "$DATA/sim.url" ] && break
		kill -0 "$SIM" 2>/dev/null || { echo "bench-fleet.sh: the fleet exited:" >&2; tail -20 "$DATA/sim.log" >&2; exit 1; }
		sleep 0.2
	done
	sleep 0.2
	URL=$(head -1 "$DATA/sim.url")
	[ -n "$URL" ] || { echo "bench-fleet.sh: no URL from the fleet:" >&2; tail -20 "$DATA/sim.log" >&2; exit 1; }
	LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
	OUT=$("$BIN" loadtest --server "$URL" --trust-simulator --recording "$REC" --op login \
		--sessions "$CONC" --concurrency "$CONC" --requests "$REQS" --warmup 1 --timeout 30m 2>/dev/null | tail -1)
	LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
	kill -TERM "$SIM" 2>/dev/null || true
	wait "$SIM" 2>/dev/null || true
	rm -rf "$DATA"
	printf '{"enclaves":%d,"cpu":"%s","cores":%d,"flags":"%s","load_before":"%s","load_after":"%s","loadtest":%s}\n' \
		"$N" "$CPU" "$CORES" "${FLAGS% }" "$LOAD_BEFORE" "$LOAD_AFTER" "$OUT"
done
