#!/usr/bin/env bash
# Whole cells of synthetic logbook pages as the pipeline cuts them, labelled from the pages' own
# truth, and their digits as the pipeline cut and normalised them (runs/cell-pages/<set>/0..9, harvest.csv),
# for fine-tuning both readers (`make train-cells`, `make train`). The handwriting is the digit
# corpus's training split (`synth --handwriting train`): the pages Logbook is evaluated on are
# written by its test split and other seeds, so they stay unseen.
# Usage: models/cell-pages.sh   (writes runs/cell-pages/<set>/cells/truth.csv; skips finished sets)
set -euo pipefail
cd "$(dirname "$0")/.."
LOGBOOK=${LOGBOOK:-.build-release/release/logbook}
OUT=${OUT:-runs/cell-pages}
mkdir -p "$OUT"
# The crops do not depend on the reader: the quick segment reader is enough for the run.
printf 'reader: segment\n' > "$OUT/segment.yaml"
for set in "trainpage 12 5001" "trainpage2 36 5101" "trainpage3 48 5201"; do
  read -r prefix pages seed <<< "$set"
  [ -f "$OUT/$prefix/cells/truth.csv" ] && continue
  rm -rf "$OUT/$prefix-pages" "$OUT/$prefix-run"
  "$LOGBOOK" synth --out "$OUT/$prefix-pages" --pages "$pages" --seed "$seed" --handwriting train --id-prefix "$prefix"
  "$LOGBOOK" run "$OUT/$prefix-pages" --out "$OUT/$prefix-run" --pipeline "$OUT/segment.yaml" --jobs 2
  "$LOGBOOK" review harvest --run "$OUT/$prefix-run" --truth "$OUT/$prefix-pages/truth.csv" --out "$OUT/$prefix"
done
