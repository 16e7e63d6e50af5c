#!/usr/bin/env bash
# Leave-one-station-out for the segment-then-classify path: for each MeteoSaver dev station,
# fine-tune the shipped digit model on the clean digits plus the digits harvested from the other
# three stations' cells, then read the held-out station's cells with `logbook evaluate-cells`.
# Usage: models/loso-segment.sh [EPOCHS] [STATIONS...]   (resumable: rerun to finish a killed run)
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS=${1:-4}; shift || true
STATIONS=${*:-203 209 501 508}
LOGBOOK=${LOGBOOK:-.build-release/release/logbook}
OUT=${OUT:-runs/loso-segment}
TRUTH=${TRUTH:-../shared/data/archival/meteosaver-dev/truth.csv}
# The clean-digit model (never saw a dev cell); the shipped model has seen every station.
INIT=${INIT:-runs/resnet18-w05/model.safetensors}
[ -f "$INIT" ] || { echo "loso-segment.sh: $INIT missing: run 'make train' first (or set INIT)" >&2; exit 1; }
mkdir -p "$OUT"
for station in $STATIONS; do
  run="$OUT/$station"
  if [ ! -f "$run/cells.json" ]; then
    "$LOGBOOK" train --init "$INIT" --data standard --data meteosaver --holdout-station "$station" --width 0.5 \
      --epochs "$EPOCHS" --batch 64 --seed 3 --optimizer adamw --lr 5e-4 --weight-decay 0.05 \
      --out "$run" --resume 2>"$run.log" | tail -1
  fi
  # The held-out station's cells alone.
  python3 - "$TRUTH" "$station" "$run/truth.csv" <<'PY'
import csv, os, sys
truth, station, out = sys.argv[1:]
rows = list(csv.DictReader(open(truth)))
folder = os.path.dirname(os.path.abspath(truth))
with open(out, "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=rows[0].keys())
    w.writeheader()
    for r in rows:
        if r["station"] == station:
            r["image"] = os.path.join(folder, r["image"]); w.writerow(r)
PY
  echo "== station $station held out"
  "$LOGBOOK" evaluate-cells --truth "$run/truth.csv" --reader segment --model "$run/model.safetensors" --out "$run/cells" --json | tee "$run/cells.json"
done
