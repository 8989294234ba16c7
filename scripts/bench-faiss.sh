#!/usr/bin/env bash
# bench-faiss: FAISS IndexFlatIP (Debian python3-faiss, OpenBLAS pthread) and
# FaceSign's Gallery on the same vectors, side by side, in ROUNDS interleaved
# rounds; prints medians and each ratio Go/FAISS. See docs/search.md.
#
# Environment: N (1000000) DIM (192) Q (64) K (10) REPS (7 per round)
# ROUNDS (3) THREADS (nproc) SEED (1) FACESIGN (a facesign binary; default:
# built from this checkout into the temporary directory, so the figures are
# never those of a stale bin/facesign) KEEP (keep the temporary directory
# when set).
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-1000000}
DIM=${DIM:-192}
Q=${Q:-64}
K=${K:-10}
REPS=${REPS:-7}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-$(nproc)}
SEED=${SEED:-1}
FACESIGN=${FACESIGN:-}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

if ! "$PY" -c 'import faiss, numpy' 2>/dev/null; then
	if [ "$(id -u)" != 0 ]; then
		echo "bench-faiss: python3-faiss missing; as root run: apt-get install -y python3-faiss libopenblas0-pthread python3-numpy" >&2
		exit 1
	fi
	apt-get install -y python3-faiss libopenblas0-pthread python3-numpy
fi
tmp=$(mktemp -d)
if [ -z "${KEEP:-}" ]; then trap 'rm -rf "$tmp"' EXIT; else echo "keeping $tmp"; fi
if [ -z "$FACESIGN" ]; then
	CGO_ENABLED=0 go build -trimpath -o "$tmp/facesign" ./cmd/facesign
	FACESIGN=$tmp/facesign
fi

echo "writing $N x $DIM gallery and $Q queries (seed $SEED)" >&2
"$FACESIGN" bench data --n "$N" --dim "$DIM" --queries "$Q" --seed "$SEED" \
	--base "$tmp/base.npy" --query-file "$tmp/queries.npy"

go_run() { # name type queries threads
	nice "$FACESIGN" bench search --n "$N" --dim "$DIM" --type "$2" --queries "$3" --threads "$4" \
		--k "$K" --reps "$REPS" --seed "$SEED" --json >"$tmp/round-$r/$1.json"
}

for r in $(seq 0 $((ROUNDS - 1))); do
	mkdir -p "$tmp/round-$r"
	echo "round $((r + 1))/$ROUNDS" >&2
	cut -d' ' -f1-3 /proc/loadavg >"$tmp/round-$r/load-start"
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE nice "$PY" bench/faiss_search.py \
		--base "$tmp/base.npy" --queries "$tmp/queries.npy" --k "$K" --reps "$REPS" --threads "$THREADS" \
		>"$tmp/round-$r/faiss.json"
	go_run f32-1 f32 1 "$THREADS"
	go_run int8-1 int8 1 "$THREADS"
	go_run f32-Q f32 "$Q" "$THREADS"
	go_run int8-Q int8 "$Q" "$THREADS"
	go_run f32-1-t1 f32 1 1
	cut -d' ' -f1-3 /proc/loadavg >"$tmp/round-$r/load-end"
done

"$PY" bench/faiss_report.py "$tmp" "$ROUNDS"
