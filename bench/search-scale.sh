#!/usr/bin/env bash
# search-scale: Gallery search latency at N = 10^5, 10^6, 4·10^6 (override
# with SIZES), f32 and int8, for each number of queries in QS (default "1";
# e.g. QS="1 64"); prints one line per run and the growth factor between
# sizes. See docs/search.md.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES:-"100000 1000000 4000000"}
DIM=${DIM:-192}
QS=${QS:-1}
REPS=${REPS:-7}
FACESIGN=${FACESIGN:-}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
if [ -z "$FACESIGN" ]; then # build from this checkout, never a stale bin/facesign
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	CGO_ENABLED=0 go build -trimpath -o "$tmp/facesign" ./cmd/facesign
	FACESIGN=$tmp/facesign
fi
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at $(date -u +%H:%M) UTC"
printf '%-6s %-8s %10s %12s %10s %10s %8s\n' type queries n ms_per_pass ms/query GB/s read%
for typ in f32 int8; do
	for q in $QS; do
		prev=""
		for n in $SIZES; do
			out=$(nice "$FACESIGN" bench search --n "$n" --dim "$DIM" --type "$typ" --queries "$q" --reps "$REPS" --json)
			"$PY" -c '
import json, sys
r = json.loads(sys.argv[1]); prev = sys.argv[2]
g = ""
if prev:
    pn, pm = map(float, prev.split(":"))
    g = "  time x%.3g for n x%.3g" % (r["ms_per_pass"] / pm, r["n"] / pn)
print("%-6s %-8d %10d %12.2f %10.4f %10.2f %7.0f%%%s" % (r["type"], r["queries"], r["n"], r["ms_per_pass"], r["ms_per_query"], r["gb_per_s"], r["pct_of_read"], g))
' "$out" "$prev"
			prev="$n:$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["ms_per_pass"])' "$out")"
		done
	done
done
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at $(date -u +%H:%M) UTC"
