#!/usr/bin/env bash
# Reproduces the model card's comparison (the paper's Table 1 on our data): ResNet18 against the
# compound ResNet18+LSTM, with the paper's settings (MSE on softmax outputs, Adam, lr 1e-6, constant)
# and with ours (cross-entropy, AdamW lr 2e-3 with warm-up and cosine decay). Same 70/20/10 split
# (--split-seed 2024), same seed, same epochs, same width for every run.
# Usage: models/reproduce-table.sh [EPOCHS] [WIDTH]   (resumable: rerun to finish a killed run)
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS=${1:-6}
WIDTH=${2:-0.25}
LOGBOOK=${LOGBOOK:-.build-release/release/logbook}
OUT=${OUT:-runs/table}
common=(--width "$WIDTH" --epochs "$EPOCHS" --batch 64 --seed 7 --split-seed 2024 --data standard --resume)

run() {
  local name=$1; shift
  "$LOGBOOK" train "${common[@]}" --out "$OUT/$name" "$@" 2>"$OUT/$name.log" | tail -1
}
mkdir -p "$OUT"
run cnn-paper      --model resnet18      --loss mse --optimizer adam --lr 1e-6 --schedule constant
run lstm-paper     --model resnet18-lstm --loss mse --optimizer adam --lr 1e-6 --schedule constant
run cnn-ours       --model resnet18      --loss cross-entropy --optimizer adamw --lr 2e-3 --weight-decay 0.05
run lstm-ours      --model resnet18-lstm --loss cross-entropy --optimizer adamw --lr 2e-3 --weight-decay 0.05
run lstm4-ours     --model resnet18-lstm --sequence-from 4 --loss cross-entropy --optimizer adamw --lr 2e-3 --weight-decay 0.05

for name in cnn-paper lstm-paper cnn-ours lstm-ours lstm4-ours; do
  echo "== $name"
  "$LOGBOOK" evaluate --model "$OUT/$name/model.safetensors" --data standard --split-seed 2024 --subset test --out "$OUT/$name/test"
  python3 -c "import json,sys; h=json.load(open('$OUT/$name/history.json')); print('training seconds: %.0f, best validation: %.4f' % (sum(e['seconds'] for e in h), max(e['validationAccuracy'] for e in h)))"
done
