#!/usr/bin/env bash
# Leave-one-station-out figures over every dev station's cells, each station read by the models
# trained without it: pools DIR/S.json (evaluate-cells --json) of the stations done so far into
# DIR/pooled.json and prints them (`logbook pool-cells`: counts summed, so each cell weighs the same).
# Usage: models/loso-pool.sh DIR   (e.g. runs/loso-scratch)
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:?usage: models/loso-pool.sh DIR}
LOGBOOK=${LOGBOOK:-.build-release/release/logbook}
REPORTS=()
for S in 203 209 501 508; do
  if [ -f "$DIR/$S.json" ]; then REPORTS+=("$DIR/$S.json"); fi
done
[ ${#REPORTS[@]} -gt 0 ] || { echo "$DIR: no station reports (S.json) yet" >&2; exit 1; }
echo "== pooled: ${REPORTS[*]}"
"$LOGBOOK" pool-cells "${REPORTS[@]}" --out "$DIR/pooled.json"
