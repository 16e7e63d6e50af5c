#!/usr/bin/env bash
# Leave-one-station-out for session 9's digit recipe (`make train`: from scratch, 12 epochs, elastic
# distortion, on the clean, dev, round-2 and synthetic-page digits at once). For each MeteoSaver dev
# station S it reuses what models/loso-round2.sh made without S (round 2's labels of the other stations'
# untranscribed cells, runs/pseudo/round2-loso-S-digits, and the whole-cell model runs/loso-round2/S/cells),
# trains the digit model without any S cell, and reads S's transcribed cells with the two
# (`evaluate-cells`, defaults): runs/loso-scratch/S.json; the stations done so far pooled
# (models/loso-pool.sh): runs/loso-scratch/pooled.json.
# Usage: models/loso-digits-scratch.sh [STATIONS...]   (resumable: rerun to finish a killed run)
set -euo pipefail
cd "$(dirname "$0")/.."
STATIONS=${*:-203 209 501 508}
LOGBOOK=${LOGBOOK:-.build-release/release/logbook}
THREADS=${THREADS:-2}
SEED=${SEED:-11}
models/cell-pages.sh
for S in $STATIONS; do
  [ -f "runs/loso-round2/$S/cells.safetensors" ] || models/loso-round2.sh "$S"
  R="runs/loso-scratch/$S"
  mkdir -p "$R"
  "$LOGBOOK" train --width 0.5 --data standard --data meteosaver --data "runs/pseudo/round2-loso-$S-digits" \
    --data runs/cell-pages/trainpage --data runs/cell-pages/trainpage2 --data runs/cell-pages/trainpage3 \
    --holdout-station "$S" --epochs 12 --batch 64 --seed "$SEED" --optimizer adamw --lr 2e-3 --weight-decay 0.05 \
    --augment archival-elastic --out "$R/digits" --resume --threads "$THREADS" 2> "$R/digits.log" | tail -1
  "$LOGBOOK" convert --model "$R/digits/model.safetensors" --out "$R/digits-f16.safetensors" --dtype f16
  "$LOGBOOK" calibrate --model "$R/digits-f16.safetensors" --data standard --data meteosaver --holdout-station "$S" \
    --subset validation --out "$R/digits.safetensors" --report "$R/calibration" --threads "$THREADS"
  echo "== station $S held out, session 9's digit recipe"
  "$LOGBOOK" evaluate-cells --truth "runs/loso-segment/$S/truth.csv" --model "$R/digits.safetensors" \
    --cell-model "runs/loso-round2/$S/cells.safetensors" --out "$R/read" --json --threads "$THREADS" | tee "runs/loso-scratch/$S.json"
done
LOGBOOK="$LOGBOOK" models/loso-pool.sh runs/loso-scratch
