#!/usr/bin/env bash
# Pages/s of 1, 2 and 4 shards run at once on this machine over the same pages, and the merge time.
#   benchmarks/shards.sh [SCANS] [THREADS]     (LOGBOOK= the binary; default the release build)
# Each count starts from an empty run folder; the shards of a count share THREADS (--jobs THREADS/N,
# at least 1), as a node's cores would be shared by array tasks.
set -euo pipefail
cd "$(dirname "$0")/.."
LOGBOOK=${LOGBOOK:-.build-release/release/logbook}
MODEL=${MODEL:-models/logbook-digits.safetensors}
scans=${1:-samples} threads=${2:-2}
out=$(mktemp -d /tmp/logbook-shards.XXXXXX)
trap 'rm -rf "$out"' EXIT
now() { date +%s.%N; }
for n in ${COUNTS:-1 2 4}; do
  jobs=$(( threads / n )); [ "$jobs" -ge 1 ] || jobs=1
  start=$(now)
  pids=()
  for k in $(seq 0 $((n - 1))); do
    "$LOGBOOK" run "$scans" --out "$out/$n" --model "$MODEL" --shard "$k/$n" --jobs "$jobs" --quiet >/dev/null &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
  shards_done=$(now)
  "$LOGBOOK" merge --run "$out/$n" >/dev/null
  merged=$(now)
  pages=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['pages']))" "$out/$n/manifest.json")
  python3 -c "import sys; s,d,m,p,n=map(float,sys.argv[1:]); print(f'{int(n)} shard(s): {int(p)} pages in {d-s:.1f} s, {p/(d-s):.3f} pages/s; merge {m-d:.2f} s')" \
    "$start" "$shards_done" "$merged" "$pages" "$n"
done
