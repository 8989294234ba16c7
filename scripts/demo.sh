#!/usr/bin/env bash
# demo.sh — `make demo`: the whole FaceSign stack in simulator mode on this machine.
# Starts `bin/facesign sim` (parent here, enclave as a child process) on a free loopback port
# with a temporary data directory, waits until it is ready, runs `bin/facesign demo` against it,
# prints the story's JSON lines, stops the simulator cleanly and exits non-zero if any step's
# outcome is not the expected one (or anything else fails).
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=${BIN:-bin/facesign}
[ -x "$BIN" ] || { echo "demo.sh: $BIN not built (run make build)" >&2; exit 1; }

DATA=$(mktemp -d "${TMPDIR:-/tmp}/facesign-demo.XXXXXX")
OUT="$DATA/sim.out"
LOG="$DATA/sim.log"
SIM_PID=""

stop_sim() {
	if [ -n "$SIM_PID" ] && kill -0 "$SIM_PID" 2>/dev/null; then
		kill -TERM "$SIM_PID" 2>/dev/null || true
		for _ in $(seq 1 100); do
			kill -0 "$SIM_PID" 2>/dev/null || break
			sleep 0.2
		done
		if kill -0 "$SIM_PID" 2>/dev/null; then
			echo "demo.sh: the simulator did not stop; killing it" >&2
			kill -KILL "$SIM_PID" 2>/dev/null || true
		fi
		wait "$SIM_PID" 2>/dev/null || SIM_STATUS=$?
	fi
	SIM_PID=""
}
cleanup() {
	stop_sim
	rm -rf "$DATA"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "demo.sh: starting the simulator (data in $DATA)" >&2
"$BIN" sim --addr 127.0.0.1:0 --data "$DATA/state" >"$OUT" 2>"$LOG" &
SIM_PID=$!

URL=""
for _ in $(seq 1 1500); do # up to 5 minutes: the enclave loads the face engine first
	if ! kill -0 "$SIM_PID" 2>/dev/null; then
		echo "demo.sh: the simulator exited before it was ready; its log:" >&2
		tail -n 40 "$LOG" >&2
		exit 1
	fi
	URL=$(head -n 1 "$OUT" 2>/dev/null || true)
	[ -n "$URL" ] && break
	sleep 0.2
done
[ -n "$URL" ] || { echo "demo.sh: the simulator was not ready in time" >&2; tail -n 40 "$LOG" >&2; exit 1; }

if command -v curl >/dev/null 2>&1; then
	curl -fsS "$URL/readyz" >/dev/null || { echo "demo.sh: $URL/readyz is not ready" >&2; exit 1; }
fi
echo "demo.sh: simulator ready at $URL" >&2

status=0
"$BIN" demo --server "$URL" --trust-simulator || status=$?

SIM_STATUS=0
stop_sim
if [ "$SIM_STATUS" -ne 0 ]; then
	echo "demo.sh: the simulator exited with status $SIM_STATUS; its log:" >&2
	tail -n 40 "$LOG" >&2
	[ "$status" -ne 0 ] || status=$SIM_STATUS
fi
if [ "$status" -ne 0 ]; then
	echo "demo.sh: FAILED (status $status); simulator log tail:" >&2
	tail -n 20 "$LOG" >&2 || true
	exit "$status"
fi
echo "demo.sh: every step had the expected outcome" >&2
