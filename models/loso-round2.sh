#!/usr/bin/env bash
# Leave-one-station-out for the whole shipped recipe, round 2 included: for each MeteoSaver dev
# station S, round 1 without S (models/loso-self-train.sh S: both readers and the self-training
# labels without S's cells), then round 2 as `make train` / `make train-cells` do it, still without S:
#   1. the round-1 digit model calibrated (on the other stations' validation cells);
#   2. the untranscribed cells of the other stations labelled again by the two round-1 models
#      (runs/pseudo/round2-loso-S.csv) and their digits harvested;
#   3. the digit model fine-tuned on clean + dev digits (S held out), those digits and the
#      synthetic pages' digits; the whole-cell model on the synthetic pages' cells and those labels;
#   4. S's transcribed cells read by the two (`evaluate-cells`, defaults): runs/loso-round2/S.json;
#   5. the stations done so far pooled (models/loso-pool.sh): runs/loso-round2/pooled.json.
# Usage: models/loso-round2.sh [STATIONS...]   (resumable: rerun to finish a killed run)
set -euo pipefail
cd "$(dirname "$0")/.."
STATIONS=${*:-203 209 501 508}
LOGBOOK=${LOGBOOK:-.build-release/release/logbook}
THREADS=${THREADS:-2}
SEED=${SEED:-1}
models/cell-pages.sh
mkdir -p runs/loso-round2
for S in $STATIONS; do
  [ -f "runs/loso-self/$S.json" ] || models/loso-self-train.sh "$S"
  R="runs/loso-round2/$S"
  mkdir -p "$R"
  [ -f "$R/round1-digits.safetensors" ] || "$LOGBOOK" calibrate --model "runs/loso-digits-pseudo/$S/model.safetensors" \
    --data standard --data meteosaver --holdout-station "$S" --subset validation --out "$R/round1-digits.safetensors" \
    --report "$R/calibration-round1" --threads "$THREADS"
  [ -f "runs/pseudo/round2-loso-$S.csv" ] || "$LOGBOOK" pseudo-label ../shared/data/archival/meteosaver-dev-unlabeled \
    --exclude-station "$S" --model "$R/round1-digits.safetensors" --cell-model "runs/cells-pseudo-loso-$S/model-f16.safetensors" \
    --out "runs/pseudo/round2-loso-$S.csv" --threads "$THREADS"
  [ -f "runs/pseudo/round2-loso-$S-digits/harvest.csv" ] || "$LOGBOOK" harvest --truth "runs/pseudo/round2-loso-$S.csv" \
    --out "runs/pseudo/round2-loso-$S-digits"
  "$LOGBOOK" train --init "$R/round1-digits.safetensors" --width 0.5 --data standard --data meteosaver \
    --data "runs/pseudo/round2-loso-$S-digits" --data runs/cell-pages/trainpage --data runs/cell-pages/trainpage2 \
    --holdout-station "$S" --epochs 4 --batch 64 --seed 3 --optimizer adamw --lr 5e-4 --weight-decay 0.05 \
    --out "$R/digits" --resume --threads "$THREADS" 2> "$R/digits.log" | tail -1
  "$LOGBOOK" calibrate --model "$R/digits/model.safetensors" --data standard --data meteosaver --holdout-station "$S" \
    --subset validation --out "$R/digits.safetensors" --report "$R/calibration" --threads "$THREADS"
  "$LOGBOOK" train-cells --data-root ../shared/data/digits --initial "runs/cells-pseudo-loso-$S/model-f16.safetensors" \
    --extra-truth runs/cell-pages/trainpage/cells/truth.csv --extra-truth runs/cell-pages/trainpage2/cells/truth.csv \
    --extra-truth runs/cell-pages/trainpage3/cells/truth.csv --extra-truth "runs/pseudo/round2-loso-$S.csv" \
    --extra-repeats 1 --real-repeats 3 --synthetic 1000 --epochs 4 --lr 5e-4 --batch 32 --seed "$SEED" --validation-fraction 0 \
    --holdout-station "$S" --out "$R/cells" --resume --threads "$THREADS" 2> "$R/cells.log" | tail -1
  "$LOGBOOK" convert --model "$R/cells/model.safetensors" --out "$R/cells.safetensors" --dtype f16
  echo "== station $S held out, round 2"
  "$LOGBOOK" evaluate-cells --truth "runs/loso-segment/$S/truth.csv" --model "$R/digits.safetensors" \
    --cell-model "$R/cells.safetensors" --out "$R/read" --json --threads "$THREADS" | tee "runs/loso-round2/$S.json"
done
LOGBOOK="$LOGBOOK" models/loso-pool.sh runs/loso-round2
