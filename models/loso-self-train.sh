#!/usr/bin/env bash
# Leave-one-station-out for the round-1 recipe with self-training (models/README.md; round 2 is not
# repeated per station): for each
# MeteoSaver dev station S, both readers trained without S's cells, transcribed or not:
#   1. `make train-cells-round1 HOLDOUT=S`: the whole-cell model on the other stations, the digit model
#      fine-tuned on their digits (models/loso-segment.sh), the untranscribed cells of the other
#      stations labelled where the two agree (runs/pseudo/loso-S.csv), and the whole-cell model
#      fine-tuned on synthetic page cells and those labels (runs/cells-pseudo-loso-S);
#   2. the digit model fine-tuned again from the clean model with the labelled cells' digits
#      (runs/loso-digits-pseudo/S);
#   3. S's transcribed cells read by the two (`evaluate-cells`, defaults: reader both, checks on,
#      no decimals hint), alone: runs/loso-self/S.json, readings and wrong cells beside it;
#   4. the stations done so far pooled (models/loso-pool.sh): runs/loso-self/pooled.json.
# Usage: models/loso-self-train.sh [STATIONS...]   (resumable: rerun to finish a killed run)
set -euo pipefail
cd "$(dirname "$0")/.."
STATIONS=${*:-203 209 501 508}
LOGBOOK=${LOGBOOK:-.build-release/release/logbook}
THREADS=${THREADS:-2}
mkdir -p runs/loso-self
for S in $STATIONS; do
  make train-cells-round1 HOLDOUT="$S" THREADS="$THREADS"
  "$LOGBOOK" convert --model "runs/cells-pseudo-loso-$S/model.safetensors" \
    --out "runs/cells-pseudo-loso-$S/model-f16.safetensors" --dtype f16
  "$LOGBOOK" train --init runs/resnet18-w05/model.safetensors --data standard --data meteosaver \
    --data "runs/pseudo/loso-$S-digits" --holdout-station "$S" --width 0.5 --epochs 4 --batch 64 --seed 3 \
    --optimizer adamw --lr 5e-4 --weight-decay 0.05 --out "runs/loso-digits-pseudo/$S" --resume \
    --threads "$THREADS" 2> "runs/loso-digits-pseudo-$S.log" | tail -1
  echo "== station $S held out"
  "$LOGBOOK" evaluate-cells --truth "runs/loso-segment/$S/truth.csv" --model "runs/loso-digits-pseudo/$S/model.safetensors" \
    --cell-model "runs/cells-pseudo-loso-$S/model-f16.safetensors" --out "runs/loso-self/$S" --json \
    --threads "$THREADS" | tee "runs/loso-self/$S.json"
done
LOGBOOK="$LOGBOOK" models/loso-pool.sh runs/loso-self
