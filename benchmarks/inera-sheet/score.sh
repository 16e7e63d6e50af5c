#!/usr/bin/env bash
# Reads the real INERA sheet with the default pipeline, with pencil ink (binarize.faint_k) and with
# pipelines/inera-climate-sheet.yaml, and scores each against the hand transcription of 180 cells.
# Usage: benchmarks/inera-sheet/score.sh   (LOGBOOK=binary, SHARED=../shared; output in out/inera-sheet)
set -euo pipefail
cd "$(dirname "$0")/../.."
LOGBOOK=${LOGBOOK:-.build-release/release/logbook}
PAGE=${SHARED:-../shared}/data/pages/inera-climate-sheet.jpg
[ -f "$PAGE" ] || { echo "no $PAGE: nothing to score"; exit 0; }
OUT=out/inera-sheet
rm -rf "$OUT" && mkdir -p "$OUT/scan"
cp "$PAGE" "$OUT/scan/"
read_with() { # name, then run options
  local name=$1; shift
  "$LOGBOOK" run "$OUT/scan" --out "$OUT/$name" --quiet "$@"
  echo "== $name"
  "$LOGBOOK" score --run "$OUT/$name" --truth benchmarks/inera-sheet/truth.csv | sed -n 2,6p
}
read_with default
printf 'binarize:\n  faint_k: 0.01\n' > "$OUT/faint.yaml"
read_with faint --pipeline "$OUT/faint.yaml"
read_with inera --pipeline pipelines/inera-climate-sheet.yaml
